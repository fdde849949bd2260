-- Undoes 0042: 0038's loyalty_drop_repeated_bonuses and loyalty_award_bonus, each with the
-- check written out again.
CREATE OR REPLACE FUNCTION loyalty_drop_repeated_bonuses(account integer) RETURNS integer LANGUAGE plpgsql AS $$
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

DROP FUNCTION loyalty_repeated_bonuses(integer[]);
DROP FUNCTION loyalty_holds_bonus(integer[], text, text, bigint);
