-- The rule "an account holds this bonus already" in one place. 0038 wrote it twice: in
-- loyalty_award_bonus (no second award) and in loyalty_drop_repeated_bonuses (a merge keeps the
-- older of two). Both call loyalty_holds_bonus now, and a merge's preview counts what the merge
-- will take back with the same loyalty_repeated_bonuses the merge uses.

-- Whether the accounts (one, or both sides of a merge) hold a bonus of this kind for this
-- occasion ('' or NULL for the once-only kinds, the year for a birthday) that still stands (no
-- entry reverses it); with `older_than`, only one written before that entry.
CREATE FUNCTION loyalty_holds_bonus(accounts integer[], bonus text, occasion text, older_than bigint DEFAULT NULL)
RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT EXISTS (
    SELECT 1 FROM public.loyalty_ledger k
     WHERE k.account_id = ANY (accounts) AND k.bonus = loyalty_holds_bonus.bonus
       AND public.loyalty_bonus_occasion(k.bonus, k.idempotency_key) = coalesce(occasion, '')
       AND NOT EXISTS (SELECT 1 FROM public.loyalty_ledger r WHERE r.reverses_id = k.id)
       AND (older_than IS NULL
            OR (k.created_at, k.id) < (SELECT o.created_at, o.id FROM public.loyalty_ledger o WHERE o.id = older_than)))
$$;

-- The standing bonuses on these accounts, taken together, that repeat an older one, and what
-- taking each back removes: what is left of its lot (all of it when untouched).
CREATE FUNCTION loyalty_repeated_bonuses(accounts integer[])
RETURNS TABLE (entry_id bigint, take_back integer) LANGUAGE sql STABLE AS $$
  SELECT l.id, coalesce(lot.remaining, 0)
    FROM public.loyalty_ledger l LEFT JOIN public.loyalty_lots lot ON lot.entry_id = l.id
   WHERE l.account_id = ANY (accounts) AND l.bonus IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM public.loyalty_ledger r WHERE r.reverses_id = l.id)
     AND public.loyalty_holds_bonus(accounts, l.bonus, public.loyalty_bonus_occasion(l.bonus, l.idempotency_key), l.id)
$$;

-- As in 0038: takes back, on one account, every bonus that repeats an older one still standing,
-- reversed whole when untouched, else a clawback of what is left. Returns the points taken back.
CREATE OR REPLACE FUNCTION loyalty_drop_repeated_bonuses(account integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  e record;
  net integer := 0;
BEGIN
  FOR e IN
    SELECT l.id, l.account_id, l.points, l.reason, d.take_back
      FROM public.loyalty_repeated_bonuses(ARRAY[account]) d JOIN public.loyalty_ledger l ON l.id = d.entry_id
     ORDER BY l.id
  LOOP
    IF e.take_back = e.points THEN
      INSERT INTO public.loyalty_ledger (account_id, kind, points, reason, reverses_id, idempotency_key)
      VALUES (e.account_id, 'reverse', -e.points, format('%s given twice (merged customers): kept once', e.reason),
              e.id, format('bonus:repeated:%s', e.id));
    ELSE
      INSERT INTO public.loyalty_ledger (account_id, kind, points, reason, reverses_id, idempotency_key)
      VALUES (e.account_id, 'adjust', -e.take_back,
              format('%s given twice (merged customers): kept once (%s points already spent)', e.reason,
                     e.points - e.take_back),
              e.id, format('bonus:repeated:%s', e.id));
    END IF;
    net := net - e.take_back;
  END LOOP;
  RETURN net;
END $$;

-- As in 0038, the check being loyalty_holds_bonus.
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
  IF public.loyalty_holds_bonus(ARRAY[account], bonus, occasion) THEN
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
