-- The loyalty program's rules that nothing applied yet (issue #12), in the database, where they
-- hold whoever writes (the app, an import, psql): bonus events, each award once by a unique key.

-- Bonus events -----------------------------------------------------------------------------------

-- A customer's birth date (the year may be unknown to the shop; any year works, only the day counts).
ALTER TABLE customers ADD COLUMN birth_date date
  CONSTRAINT customers_birth_date_range CHECK (birth_date BETWEEN DATE '1900-01-01' AND DATE '2100-12-31');
-- Birthdays by month and day (month * 100 + day), for the daily run.
CREATE INDEX customers_birthday_idx
  ON customers ((date_part('month', birth_date)::integer * 100 + date_part('day', birth_date)::integer))
  WHERE birth_date IS NOT NULL AND merged_into IS NULL;

-- Which bonus an entry is (an earning of no order). The idempotency key makes each one once:
-- bonus:sign_up:<customer>, bonus:first_review:<customer>, bonus:birthday:<customer>:<year>.
ALTER TABLE loyalty_ledger ADD COLUMN bonus text
  CONSTRAINT loyalty_ledger_bonus_kind CHECK (bonus IN ('sign_up', 'birthday', 'first_review'));
ALTER TABLE loyalty_ledger ADD CONSTRAINT loyalty_ledger_bonus_earn
  CHECK (bonus IS NULL OR (kind = 'earn' AND order_id IS NULL));

-- Awards `bonus` to a customer under the version in force now (recorded on the entry), opening
-- their loyalty account if they have none. `occasion` tells apart bonuses that recur (the year
-- of a birthday). Nothing when the program gives 0 for it, or it was given before (the key is
-- unique: of two concurrent awards one inserts, the other waits for it and does nothing).
-- Returns the entry's id, null when nothing was written.
CREATE FUNCTION loyalty_award_bonus(customer integer, bonus text, occasion text DEFAULT NULL)
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

-- Sign-up: every new customer, whoever creates them (the app, a storefront, an import).
CREATE FUNCTION loyalty_sign_up_bonus() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- One look at the program per statement: an import of many customers with the bonus off costs nothing.
  IF coalesce((public.loyalty_program_at(now()) -> 'earn' -> 'bonuses' ->> 'signUp')::integer, 0) > 0 THEN
    PERFORM public.loyalty_award_bonus(n.id, 'sign_up') FROM (SELECT id FROM new_rows ORDER BY id) n;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER customers_loyalty_sign_up AFTER INSERT ON customers
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION loyalty_sign_up_bonus();

-- First review: a customer's first product review ever (one written before the bonus existed
-- makes a later one not the first).
CREATE FUNCTION loyalty_first_review_bonus() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce((public.loyalty_program_at(now()) -> 'earn' -> 'bonuses' ->> 'firstReview')::integer, 0) > 0 THEN
    PERFORM public.loyalty_award_bonus(n.customer_id, 'first_review')
       FROM (SELECT DISTINCT customer_id FROM new_rows ORDER BY 1) n
      WHERE NOT EXISTS (SELECT 1 FROM public.reviews r
                         WHERE r.customer_id = n.customer_id AND r.id NOT IN (SELECT id FROM new_rows));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER reviews_loyalty_first_review AFTER INSERT ON reviews
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION loyalty_first_review_bonus();

-- Birthdays: awarded by the schedule (server/services/loyalty/schedule.ts) for birthdays of the
-- last `catch_up_days` days in the store's time zone, so a day the schedule did not run is made up
-- the next; once a year by the key. A 29 February birthday counts on 28 February in other years.
-- Returns how many were awarded.
CREATE FUNCTION loyalty_award_birthdays(tz text DEFAULT 'UTC', at timestamptz DEFAULT now(), catch_up_days integer DEFAULT 3)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  today date := (LEAST(at, now()) AT TIME ZONE tz)::date;
  day date;
  md integer;
  c integer;
  awarded integer := 0;
BEGIN
  IF coalesce((public.loyalty_program_at(now()) -> 'earn' -> 'bonuses' ->> 'birthday')::integer, 0) <= 0 THEN
    RETURN 0;
  END IF;
  FOR day IN SELECT d::date FROM generate_series(today - catch_up_days, today, interval '1 day') d LOOP
    md := date_part('month', day)::integer * 100 + date_part('day', day)::integer;
    FOR c IN
      SELECT cu.id FROM public.customers cu
       WHERE cu.birth_date IS NOT NULL AND cu.merged_into IS NULL
         AND (date_part('month', cu.birth_date)::integer * 100 + date_part('day', cu.birth_date)::integer)
             = ANY (CASE WHEN md = 228 AND date_part('day', day + 1) <> 29 THEN ARRAY[228, 229] ELSE ARRAY[md] END)
       ORDER BY cu.id
    LOOP
      IF public.loyalty_award_bonus(c, 'birthday', date_part('year', day)::text) IS NOT NULL THEN
        awarded := awarded + 1;
      END IF;
    END LOOP;
  END LOOP;
  RETURN awarded;
END $$;
