-- Undoes 0038: the award as in 0031, no more taking back of repeated bonuses (entries already written stay).
DROP TRIGGER loyalty_ledger_moved_bonuses ON loyalty_ledger;
DROP FUNCTION loyalty_ledger_moved_bonuses();
DROP FUNCTION loyalty_drop_repeated_bonuses(integer);

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
  INSERT INTO public.loyalty_ledger (account_id, kind, points, reason, idempotency_key, program_version_id, bonus)
  VALUES (account, 'earn', points,
          CASE bonus WHEN 'sign_up' THEN 'Sign-up bonus' WHEN 'first_review' THEN 'First review bonus'
                     ELSE 'Birthday bonus ' || occasion END,
          'bonus:' || bonus || ':' || customer || coalesce(':' || occasion, ''), in_force, bonus)
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING id INTO entry;
  RETURN entry;
END $$;

DROP FUNCTION loyalty_bonus_occasion(text, text);
