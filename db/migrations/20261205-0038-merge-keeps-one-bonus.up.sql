-- Each bonus event is once per customer (a birthday once a year), and a merge must not make it
-- twice: duplicates often signed up twice, which is what a second sign-up bonus would reward.
-- When a merge brings two ledgers together, of two bonuses of one kind (and, for birthdays, one
-- year) the survivor keeps the older; the other is taken back from its own lot the way a
-- refunded order's earning is (0026): reversed whole when untouched, else a clawback of what is
-- left of it. And a bonus is not awarded to a member whose account already holds it.

-- The occasion of a bonus entry: the year of a birthday (its key is bonus:birthday:<customer>:<year>),
-- '' for the once-only kinds.
CREATE FUNCTION loyalty_bonus_occasion(bonus text, idempotency_key text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN bonus = 'birthday' THEN split_part(idempotency_key, ':', 4) ELSE '' END
$$;

-- Takes back, on one account, every bonus that repeats an older one still standing. Returns the
-- points taken back. The caller holds the account (the merge's ledger move locks it).
CREATE FUNCTION loyalty_drop_repeated_bonuses(account integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  e public.loyalty_ledger;
  left_in_lot integer;
  net integer := 0;
BEGIN
  FOR e IN
    SELECT l.* FROM public.loyalty_ledger l
     WHERE l.account_id = account AND l.bonus IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM public.loyalty_ledger r WHERE r.reverses_id = l.id)
       AND EXISTS (
         SELECT 1 FROM public.loyalty_ledger k
          WHERE k.account_id = account AND k.bonus = l.bonus
            AND public.loyalty_bonus_occasion(k.bonus, k.idempotency_key)
                = public.loyalty_bonus_occasion(l.bonus, l.idempotency_key)
            AND (k.created_at, k.id) < (l.created_at, l.id)
            AND NOT EXISTS (SELECT 1 FROM public.loyalty_ledger r WHERE r.reverses_id = k.id))
     ORDER BY l.id
  LOOP
    SELECT lot.remaining INTO left_in_lot FROM public.loyalty_lots lot WHERE lot.entry_id = e.id;
    IF left_in_lot = e.points THEN
      INSERT INTO public.loyalty_ledger (account_id, kind, points, reason, reverses_id, idempotency_key)
      VALUES (e.account_id, 'reverse', -e.points, format('%s given twice (merged customers): kept once', e.reason),
              e.id, format('bonus:repeated:%s', e.id));
      net := net - e.points;
    ELSE
      left_in_lot := coalesce(left_in_lot, 0);
      INSERT INTO public.loyalty_ledger (account_id, kind, points, reason, reverses_id, idempotency_key)
      VALUES (e.account_id, 'adjust', -left_in_lot,
              format('%s given twice (merged customers): kept once (%s points already spent)', e.reason,
                     e.points - left_in_lot),
              e.id, format('bonus:repeated:%s', e.id));
      net := net - left_in_lot;
    END IF;
  END LOOP;
  RETURN net;
END $$;

-- After entries move between accounts (only a merge moves them), the receiving accounts keep one
-- of each bonus. Named to fire after loyalty_ledger_moved, which has moved the points and lots.
CREATE FUNCTION loyalty_ledger_moved_bonuses() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM public.loyalty_drop_repeated_bonuses(t.account_id)
     FROM (SELECT DISTINCT n.account_id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE o.account_id <> n.account_id AND n.bonus IS NOT NULL ORDER BY 1) t;
  RETURN NULL;
END $$;
CREATE TRIGGER loyalty_ledger_moved_bonuses AFTER UPDATE ON loyalty_ledger
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION loyalty_ledger_moved_bonuses();

-- As in 0031, and nothing when the member's account already holds this bonus for this occasion
-- (a survivor of a merge holds the merged customer's).
CREATE OR REPLACE FUNCTION loyalty_award_bonus(customer integer, bonus text, occasion text DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  in_force integer := public.loyalty_program_version_at(now());
  cfg jsonb;
  points integer;
  account integer;
  entry bigint;
BEGIN
  SELECT v.config INTO cfg FROM public.loyalty_program_versions v WHERE v.id = in_force;
  points := coalesce((cfg -> 'earn' -> 'bonuses' ->> CASE bonus WHEN 'sign_up' THEN 'signUp'
                                                               WHEN 'first_review' THEN 'firstReview'
                                                               ELSE bonus END)::integer, 0);
  IF points <= 0 OR NOT EXISTS (SELECT 1 FROM public.customers c WHERE c.id = customer AND c.merged_into IS NULL) THEN
    RETURN NULL;
  END IF;
  INSERT INTO public.loyalty_accounts (customer_id) VALUES (customer) ON CONFLICT (customer_id) DO NOTHING;
  SELECT a.id INTO account FROM public.loyalty_accounts a WHERE a.customer_id = customer;
  IF EXISTS (SELECT 1 FROM public.loyalty_ledger k
              WHERE k.account_id = account AND k.bonus = loyalty_award_bonus.bonus
                AND public.loyalty_bonus_occasion(k.bonus, k.idempotency_key) = coalesce(occasion, '')
                AND NOT EXISTS (SELECT 1 FROM public.loyalty_ledger r WHERE r.reverses_id = k.id)) THEN
    RETURN NULL;
  END IF;
  INSERT INTO public.loyalty_ledger (account_id, kind, points, reason, idempotency_key, program_version_id, bonus)
  VALUES (account, 'earn', points,
          CASE bonus WHEN 'sign_up' THEN 'Sign-up bonus' WHEN 'first_review' THEN 'First review bonus'
                     ELSE 'Birthday bonus ' || occasion END,
          'bonus:' || bonus || ':' || customer || coalesce(':' || occasion, ''), in_force, bonus)
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING id INTO entry;
  RETURN entry;
END $$;
