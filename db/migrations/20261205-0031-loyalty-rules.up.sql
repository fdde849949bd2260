-- The loyalty program's rules that nothing applied yet (issue #12), in the database, where they
-- hold whoever writes (the app, an import, psql): bonus events, each award once by a unique key;
-- tiers on the basis and thresholds of the version in force, held up by its graces; reward and
-- campaign codes marked used by the first order that carries them.

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

-- Sign-up: every new customer, whoever creates them (the app, a storefront, psql), but not an
-- import: a shop bringing its existing customers over is not their signing up (the importer sets
-- pulse.import for its batch's transaction).
CREATE FUNCTION loyalty_sign_up_bonus() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('pulse.import', true) = 'on' THEN
    RETURN NULL;
  END IF;
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

-- The tier basis and grace --------------------------------------------------------------------

-- The tier `value` reaches under a program's thresholds (config.tiers.levels, lowest first).
CREATE FUNCTION loyalty_tier_of(cfg jsonb, amount numeric) RETURNS loyalty_tier LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(
    (SELECT (x.level ->> 'tier')::public.loyalty_tier FROM jsonb_array_elements(cfg -> 'tiers' -> 'levels') x (level)
      WHERE amount >= (x.level ->> 'threshold')::numeric ORDER BY (x.level ->> 'threshold')::numeric DESC LIMIT 1),
    'bronze')
$$;

-- The orders whose spend qualifies (those that earn points) and the rolling window of the 12-month bases.
-- Points of the last 12 months are earnings made in it that no refund took back, as lifetime
-- points forget a reversed or clawed-back earning.

-- One member's value on the program's basis at `at`: lifetime points (given: the ledger trigger
-- passes the value it is writing), earnings of the last 12 months, or whole currency units spent
-- in the last 12 months.
CREATE FUNCTION loyalty_basis_value(cfg jsonb, account integer, customer integer, lifetime integer, at timestamptz)
RETURNS numeric LANGUAGE plpgsql STABLE AS $$
DECLARE
  value numeric;
BEGIN
  CASE cfg -> 'tiers' ->> 'basis'
    WHEN 'spend_12m' THEN
      SELECT floor(coalesce(sum(o.total), 0)) INTO value FROM public.orders o
       WHERE o.customer_id = customer AND o.status IN ('paid', 'fulfilled', 'shipped', 'delivered')
         AND o.order_date > at - interval '12 months' AND o.order_date <= at;
    WHEN 'points_12m' THEN
      SELECT coalesce(sum(e.points), 0) INTO value FROM public.loyalty_ledger e
       WHERE e.account_id = account AND e.kind = 'earn'
         AND e.created_at > at - interval '12 months' AND e.created_at <= at
         AND NOT EXISTS (SELECT 1 FROM public.loyalty_ledger r WHERE r.reverses_id = e.id);
    ELSE
      value := lifetime;
  END CASE;
  RETURN value;
END $$;

-- The same for every member at once (publishing, the schedule's refresh).
CREATE FUNCTION loyalty_basis_values(cfg jsonb, at timestamptz)
RETURNS TABLE (account_id integer, value numeric) LANGUAGE sql STABLE AS $$
  SELECT a.id,
         CASE cfg -> 'tiers' ->> 'basis' WHEN 'spend_12m' THEN coalesce(s.value, 0)
                                         WHEN 'points_12m' THEN coalesce(p.value, 0)
                                         ELSE a.lifetime_points END
    FROM public.loyalty_accounts a
    LEFT JOIN (
      SELECT o.customer_id, floor(sum(o.total)) AS value FROM public.orders o
       WHERE cfg -> 'tiers' ->> 'basis' = 'spend_12m'
         AND o.status IN ('paid', 'fulfilled', 'shipped', 'delivered')
         AND o.order_date > at - interval '12 months' AND o.order_date <= at
       GROUP BY o.customer_id) s ON s.customer_id = a.customer_id
    LEFT JOIN (
      SELECT e.account_id, sum(e.points) AS value FROM public.loyalty_ledger e
       WHERE cfg -> 'tiers' ->> 'basis' = 'points_12m' AND e.kind = 'earn'
         AND e.created_at > at - interval '12 months' AND e.created_at <= at
         AND NOT EXISTS (SELECT 1 FROM public.loyalty_ledger r WHERE r.reverses_id = e.id)
       GROUP BY e.account_id) p ON p.account_id = a.id
$$;

-- A member's tier now: what the version in force gives their basis value, or the tier a grace of
-- that version keeps them in until it ends, whichever is higher.
CREATE FUNCTION loyalty_account_tier(account integer, customer integer, lifetime integer)
RETURNS loyalty_tier LANGUAGE plpgsql STABLE AS $$
DECLARE
  in_force integer := public.loyalty_program_version_at(now());
  cfg jsonb;
  kept public.loyalty_tier;
BEGIN
  SELECT v.config INTO cfg FROM public.loyalty_program_versions v WHERE v.id = in_force;
  SELECT max(g.kept_tier) INTO kept FROM public.loyalty_tier_grace g
   WHERE g.account_id = account AND g.version_id = in_force AND g.until > now();
  RETURN GREATEST(public.loyalty_tier_of(cfg, public.loyalty_basis_value(cfg, account, customer, lifetime, now())), kept);
END $$;

-- A tier change the schedule makes (a grace ended, a rolling window moved, a version took effect)
-- has no ledger entry.
ALTER TABLE loyalty_tier_changes ALTER COLUMN entry_id DROP NOT NULL;

-- As in 0026, and a tier may also change on its own, to exactly what the program says it is
-- (loyalty_refresh_tiers): the balances still move only with the ledger.
CREATE OR REPLACE FUNCTION loyalty_guard_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (pg_trigger_depth() < 2 OR current_setting('pulse.ledger_apply', true) IS DISTINCT FROM 'on')
     AND (TG_OP = 'INSERT' AND (NEW.balance <> 0 OR NEW.lifetime_points <> 0 OR NEW.tier <> 'bronze' OR NEW.pending <> 0)
          OR TG_OP = 'UPDATE' AND (NEW.balance, NEW.lifetime_points, NEW.tier, NEW.pending)
                                  IS DISTINCT FROM (OLD.balance, OLD.lifetime_points, OLD.tier, OLD.pending)) THEN
    IF TG_OP = 'UPDATE' AND (NEW.balance, NEW.lifetime_points, NEW.pending) = (OLD.balance, OLD.lifetime_points, OLD.pending)
       AND NEW.tier = public.loyalty_account_tier(NEW.id, NEW.customer_id, NEW.lifetime_points) THEN
      RETURN NEW;
    END IF;
    RAISE EXCEPTION 'loyalty balances change only through loyalty_ledger entries'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'loyalty_accounts_ledger_only';
  END IF;
  RETURN NEW;
END $$;

-- Brings one member's tier to what the program says now, under the account's lock, recording
-- the change in loyalty_tier_changes (so on the change log). Returns whether it changed.
CREATE FUNCTION loyalty_refresh_tier(account integer) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  before_tier public.loyalty_tier;
  after_tier public.loyalty_tier;
BEGIN
  PERFORM 1 FROM public.loyalty_accounts a WHERE a.id = account FOR NO KEY UPDATE;
  SELECT a.tier, public.loyalty_account_tier(a.id, a.customer_id, a.lifetime_points) INTO before_tier, after_tier
    FROM public.loyalty_accounts a WHERE a.id = account;
  IF after_tier IS NOT DISTINCT FROM before_tier THEN
    RETURN false;
  END IF;
  UPDATE public.loyalty_accounts SET tier = after_tier WHERE id = account;
  INSERT INTO public.loyalty_tier_changes (account_id, customer_id, entry_id, from_tier, to_tier, changed_at)
  SELECT a.id, a.customer_id, NULL, before_tier, after_tier, now() FROM public.loyalty_accounts a WHERE a.id = account;
  RETURN true;
END $$;

-- Brings every member's tier to what the program in force says (its basis, its thresholds, the
-- graces of that version): set-based to find who differs, then one by one as above (deciding
-- again under the lock, so a ledger entry racing it never leaves a stale tier). Returns how many
-- tiers changed.
CREATE FUNCTION loyalty_refresh_tiers() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  in_force integer := public.loyalty_program_version_at(now());
  cfg jsonb;
  acc record;
  changed integer := 0;
BEGIN
  SELECT v.config INTO cfg FROM public.loyalty_program_versions v WHERE v.id = in_force;
  FOR acc IN
    SELECT a.id FROM public.loyalty_accounts a
      JOIN public.loyalty_basis_values(cfg, now()) b ON b.account_id = a.id
      LEFT JOIN (SELECT g.account_id, max(g.kept_tier) AS kept FROM public.loyalty_tier_grace g
                  WHERE g.version_id = in_force AND g.until > now()
                  GROUP BY g.account_id) g ON g.account_id = a.id
     WHERE a.tier IS DISTINCT FROM GREATEST(public.loyalty_tier_of(cfg, b.value), g.kept)
     ORDER BY a.id
  LOOP
    IF public.loyalty_refresh_tier(acc.id) THEN
      changed := changed + 1;
    END IF;
  END LOOP;
  RETURN changed;
END $$;

-- On a spend basis an order moves its customer's tier when it counts or stops counting, whether
-- or not it earns points (an order worth less than a point earns none). One look at the program
-- per statement, so writing orders under the other bases costs nothing more.
CREATE FUNCTION loyalty_orders_tier() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF public.loyalty_program_at(now()) -> 'tiers' ->> 'basis' = 'spend_12m' THEN
    PERFORM public.loyalty_refresh_tier(a.id)
       FROM (SELECT DISTINCT customer_id FROM new_rows) n
       JOIN public.loyalty_accounts a ON a.customer_id = n.customer_id
      ORDER BY a.id;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER orders_loyalty_tier_insert AFTER INSERT ON orders
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION loyalty_orders_tier();
CREATE TRIGGER orders_loyalty_tier_update AFTER UPDATE ON orders
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION loyalty_orders_tier();

-- As in 0026, the tier from loyalty_account_tier (the program's basis, thresholds and grace).
CREATE OR REPLACE FUNCTION loyalty_apply_entry() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  lifetime_delta integer := 0;
  pending_delta integer := 0;
  target public.loyalty_ledger%ROWTYPE;
  before_tier public.loyalty_tier;
  after_tier public.loyalty_tier;
  member integer;
  cfg jsonb;
  lot record;
  need integer;
  take integer;
  lot_pending_until timestamptz;
BEGIN
  IF NEW.kind = 'earn' THEN
    lifetime_delta := NEW.points;
  ELSIF NEW.reverses_id IS NOT NULL THEN
    SELECT * INTO target FROM public.loyalty_ledger WHERE id = NEW.reverses_id;
    IF NEW.kind = 'reverse'
       AND (target.reverses_id IS NOT NULL OR target.account_id <> NEW.account_id OR NEW.points <> -target.points) THEN
      RAISE EXCEPTION 'a reversal must undo exactly one entry (not a reversal) of the same account: %', NEW.reverses_id
        USING ERRCODE = 'check_violation', CONSTRAINT = 'loyalty_ledger_reverse_exact';
    END IF;
    IF NEW.kind = 'adjust'
       AND (target.kind <> 'earn' OR target.account_id <> NEW.account_id OR NEW.points > 0 OR NEW.points < -target.points) THEN
      RAISE EXCEPTION 'a clawback takes back at most the points of one earning of the same account: %', NEW.reverses_id
        USING ERRCODE = 'check_violation', CONSTRAINT = 'loyalty_ledger_clawback';
    END IF;
    IF target.kind = 'earn' THEN
      lifetime_delta := -target.points;
    END IF;
  END IF;
  -- NO KEY UPDATE: the insert's foreign-key check holds KEY SHARE on this row, and FOR UPDATE
  -- would deadlock two concurrent entries of one account against each other's share lock. Every
  -- lot of the account is read and written holding this lock.
  SELECT tier INTO before_tier FROM public.loyalty_accounts WHERE id = NEW.account_id FOR NO KEY UPDATE;
  PERFORM set_config('pulse.ledger_apply', 'on', true);

  IF NEW.ticket_id IS NOT NULL AND (
       SELECT sum(g.points) FROM public.loyalty_ledger g WHERE g.ticket_id = NEW.ticket_id
     ) > (SELECT (v.config ->> 'goodwillLimitPerTicket')::integer FROM public.loyalty_program_versions v
           WHERE v.id = NEW.program_version_id) THEN
    RAISE EXCEPTION 'ticket % would grant more goodwill points than the program allows', NEW.ticket_id
      USING ERRCODE = 'check_violation', CONSTRAINT = 'loyalty_ledger_goodwill_limit';
  END IF;

  IF NEW.points > 0 AND NEW.reverses_id IS NOT NULL THEN
    -- Points given back return to the lots they were taken from.
    need := NEW.points;
    FOR lot IN
      SELECT m.lot_id, -m.points AS points, l.pending
        FROM public.loyalty_lot_moves m JOIN public.loyalty_lots l ON l.id = m.lot_id
       WHERE m.entry_id = NEW.reverses_id AND m.points < 0
       ORDER BY m.lot_id
    LOOP
      take := least(need, lot.points);
      EXIT WHEN take <= 0;
      UPDATE public.loyalty_lots SET remaining = remaining + take WHERE id = lot.lot_id;
      INSERT INTO public.loyalty_lot_moves (entry_id, lot_id, points) VALUES (NEW.id, lot.lot_id, take);
      IF lot.pending THEN pending_delta := pending_delta + take; END IF;
      need := need - take;
    END LOOP;
    -- What no lot records (taken before lots existed) comes back as a lot of its own.
    IF need > 0 THEN
      INSERT INTO public.loyalty_lots (account_id, entry_id, order_id, points, remaining, earned_at)
      VALUES (NEW.account_id, NEW.id, NEW.order_id, need, need, NEW.created_at);
    END IF;
  ELSIF NEW.points > 0 THEN
    -- An earning or an adjustment upwards opens a lot; an order's earning waits out the return window.
    SELECT config INTO cfg FROM public.loyalty_program_versions WHERE id = NEW.program_version_id;
    IF NEW.kind = 'earn' AND NEW.order_id IS NOT NULL AND (cfg ->> 'pendingDays')::numeric > 0 THEN
      lot_pending_until := NEW.created_at + (cfg ->> 'pendingDays')::numeric * interval '1 day';
    END IF;
    INSERT INTO public.loyalty_lots (account_id, entry_id, order_id, points, remaining, earned_at, pending_until, pending, expires_at)
    VALUES (NEW.account_id, NEW.id, NEW.order_id, NEW.points, NEW.points, NEW.created_at, lot_pending_until,
            coalesce(lot_pending_until > now(), false),
            CASE WHEN cfg -> 'expiry' ->> 'mode' = 'after_earn'
                 THEN NEW.created_at + make_interval(months => (cfg -> 'expiry' ->> 'months')::integer) END);
    IF lot_pending_until > now() THEN pending_delta := NEW.points; END IF;
  ELSIF NEW.points < 0 AND NEW.reverses_id IS NOT NULL THEN
    -- A reversal or a clawback of an earning takes from that earning's lot, and from nothing else
    -- (the lot's CHECK refuses more than it holds). Reversing a redemption's return likewise.
    SELECT l.id, l.pending INTO lot FROM public.loyalty_lots l WHERE l.entry_id = NEW.reverses_id;
    IF lot.id IS NULL THEN
      RAISE EXCEPTION 'entry % holds no points to take back', NEW.reverses_id
        USING ERRCODE = 'check_violation', CONSTRAINT = 'loyalty_lots_remaining';
    END IF;
    UPDATE public.loyalty_lots SET remaining = remaining + NEW.points WHERE id = lot.id;
    INSERT INTO public.loyalty_lot_moves (entry_id, lot_id, points) VALUES (NEW.id, lot.id, NEW.points);
    IF lot.pending THEN pending_delta := NEW.points; END IF;
  ELSIF NEW.points < 0 THEN
    -- Oldest first: a redemption spends available points only; an expiry takes expired lots only;
    -- an adjustment downwards takes available points first, then pending ones.
    need := -NEW.points;
    FOR lot IN
      SELECT l.id, l.remaining, l.pending FROM public.loyalty_lots l
       WHERE l.account_id = NEW.account_id AND l.remaining > 0
         AND (NOT l.pending OR NEW.kind = 'adjust')
         AND (NEW.kind <> 'expire'
              OR l.id IN (SELECT x.lot_id FROM public.loyalty_lot_expiries x
                           WHERE x.account_id = NEW.account_id AND x.expires_at <= NEW.created_at))
       ORDER BY l.pending, l.earned_at, l.id
    LOOP
      take := least(need, lot.remaining);
      UPDATE public.loyalty_lots SET remaining = remaining - take WHERE id = lot.id;
      INSERT INTO public.loyalty_lot_moves (entry_id, lot_id, points) VALUES (NEW.id, lot.id, -take);
      IF lot.pending THEN pending_delta := pending_delta - take; END IF;
      need := need - take;
      EXIT WHEN need = 0;
    END LOOP;
    IF need > 0 THEN
      IF NEW.kind = 'expire' THEN
        RAISE EXCEPTION 'account % has fewer expired points than %', NEW.account_id, -NEW.points
          USING ERRCODE = 'check_violation', CONSTRAINT = 'loyalty_ledger_expire_expired';
      END IF;
      RAISE EXCEPTION 'account % has fewer available points than %', NEW.account_id, -NEW.points
        USING ERRCODE = 'check_violation', CONSTRAINT = 'loyalty_accounts_balance_check';
    END IF;
  END IF;

  UPDATE public.loyalty_accounts
     SET balance = balance + NEW.points,
         pending = pending + pending_delta,
         lifetime_points = GREATEST(lifetime_points + lifetime_delta, 0),
         tier = public.loyalty_account_tier(id, customer_id, GREATEST(lifetime_points + lifetime_delta, 0))
   WHERE id = NEW.account_id
  RETURNING tier, customer_id INTO after_tier, member;
  PERFORM set_config('pulse.ledger_apply', 'off', true);
  IF after_tier IS DISTINCT FROM before_tier THEN
    INSERT INTO public.loyalty_tier_changes (account_id, customer_id, entry_id, from_tier, to_tier, changed_at)
    VALUES (NEW.account_id, member, NEW.id, before_tier, after_tier, NEW.created_at);
  END IF;
  RETURN NEW;
END $$;

-- As in 0026, the tier from loyalty_account_tier.
CREATE OR REPLACE FUNCTION loyalty_ledger_moved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  m record;
  before_tier public.loyalty_tier;
  after_tier public.loyalty_tier;
  member integer;
  moved_pending integer;
BEGIN
  FOR m IN
    SELECT o.account_id AS from_id, n.account_id AS to_id, sum(n.points)::integer AS points,
           sum(CASE WHEN n.kind = 'earn' THEN n.points ELSE 0 END)::integer
             - coalesce(sum(t.points) FILTER (WHERE t.kind = 'earn'), 0)::integer AS lifetime,
           max(n.id) AS last_entry, max(n.created_at) AS last_at, array_agg(n.id) AS entries
      FROM new_rows n
      JOIN old_rows o ON o.id = n.id
      LEFT JOIN public.loyalty_ledger t ON t.id = n.reverses_id
     WHERE o.account_id <> n.account_id
     GROUP BY o.account_id, n.account_id
     ORDER BY least(o.account_id, n.account_id)
  LOOP
    PERFORM 1 FROM public.loyalty_accounts WHERE id IN (m.from_id, m.to_id) ORDER BY id FOR NO KEY UPDATE;
    PERFORM set_config('pulse.ledger_apply', 'on', true);
    WITH moved AS (
      UPDATE public.loyalty_lots SET account_id = m.to_id
       WHERE account_id = m.from_id AND entry_id = ANY (m.entries)
      RETURNING remaining, pending
    )
    SELECT coalesce(sum(remaining) FILTER (WHERE pending), 0)::integer INTO moved_pending FROM moved;
    FOR member IN SELECT unnest(ARRAY[m.from_id, m.to_id]) ORDER BY 1 LOOP
      SELECT tier INTO before_tier FROM public.loyalty_accounts WHERE id = member FOR NO KEY UPDATE;
      PERFORM set_config('pulse.ledger_apply', 'on', true);
      UPDATE public.loyalty_accounts
         SET balance = balance + CASE WHEN id = m.to_id THEN m.points ELSE -m.points END,
             pending = pending + CASE WHEN id = m.to_id THEN moved_pending ELSE -moved_pending END,
             lifetime_points = GREATEST(lifetime_points + CASE WHEN id = m.to_id THEN m.lifetime ELSE -m.lifetime END, 0),
             tier = public.loyalty_account_tier(id, customer_id, GREATEST(lifetime_points + CASE WHEN id = m.to_id THEN m.lifetime ELSE -m.lifetime END, 0))
       WHERE id = member
      RETURNING tier INTO after_tier;
      PERFORM set_config('pulse.ledger_apply', 'off', true);
      IF after_tier IS DISTINCT FROM before_tier THEN
        INSERT INTO public.loyalty_tier_changes (account_id, customer_id, entry_id, from_tier, to_tier, changed_at)
        SELECT member, a.customer_id, m.last_entry, before_tier, after_tier, now()
          FROM public.loyalty_accounts a WHERE a.id = member;
      END IF;
    END LOOP;
  END LOOP;
  RETURN NULL;
END $$;

-- Codes marked used ----------------------------------------------------------------------------

-- A redeemed reward's code and a campaign's code are used by the first order that carries them
-- (attributes.discount_code, or any of attributes.discount_codes: what the storefront ingest and
-- the order form write). The two tables stay apart (a reward code belongs to a ledger entry, a
-- campaign code to a campaign member); one trigger marks both. Marking is a conditional UPDATE of
-- the code's row: of two orders using a code, concurrent or not, the first keeps it.
ALTER TABLE loyalty_reward_codes ADD COLUMN used_order_id integer REFERENCES orders (id) ON DELETE SET NULL;
ALTER TABLE campaign_codes
  ADD COLUMN used_at timestamptz,
  ADD COLUMN used_order_id integer REFERENCES orders (id) ON DELETE SET NULL;
ALTER TABLE loyalty_reward_codes ADD CONSTRAINT loyalty_reward_codes_used
  CHECK (used_order_id IS NULL OR used_at IS NOT NULL);
ALTER TABLE campaign_codes ADD CONSTRAINT campaign_codes_used
  CHECK (used_order_id IS NULL OR used_at IS NOT NULL);

-- The codes an order carries, upper case.
CREATE FUNCTION order_discount_codes(attributes jsonb) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(array_agg(DISTINCT upper(btrim(c))) FILTER (WHERE btrim(c) <> ''), '{}')
    FROM (SELECT attributes ->> 'discount_code' AS c WHERE jsonb_typeof(attributes -> 'discount_code') = 'string'
          UNION ALL
          SELECT jsonb_array_elements_text(attributes -> 'discount_codes')
           WHERE jsonb_typeof(attributes -> 'discount_codes') = 'array') codes
$$;

CREATE FUNCTION orders_mark_codes_used() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  codes text[] := public.order_discount_codes(NEW.attributes);
BEGIN
  IF cardinality(codes) > 0 THEN
    UPDATE public.loyalty_reward_codes SET used_at = now(), used_order_id = NEW.id
     WHERE code = ANY (codes) AND used_at IS NULL;
    UPDATE public.campaign_codes SET used_at = now(), used_order_id = NEW.id
     WHERE code = ANY (codes) AND used_at IS NULL;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER orders_codes_used_insert AFTER INSERT ON orders
  FOR EACH ROW WHEN (NEW.attributes ? 'discount_code' OR NEW.attributes ? 'discount_codes')
  EXECUTE FUNCTION orders_mark_codes_used();
CREATE TRIGGER orders_codes_used_update AFTER UPDATE OF attributes ON orders
  FOR EACH ROW WHEN ((NEW.attributes ? 'discount_code' OR NEW.attributes ? 'discount_codes')
                     AND NEW.attributes IS DISTINCT FROM OLD.attributes)
  EXECUTE FUNCTION orders_mark_codes_used();

-- Codes already used by orders written before this migration: the earliest order keeps each.
UPDATE loyalty_reward_codes k SET used_at = coalesce(k.used_at, u.order_date), used_order_id = u.id
  FROM (SELECT DISTINCT ON (c) c, o.id, o.order_date
          FROM orders o CROSS JOIN LATERAL unnest(order_discount_codes(o.attributes)) c
         WHERE o.attributes ? 'discount_code' OR o.attributes ? 'discount_codes'
         ORDER BY c, o.order_date, o.id) u
 WHERE k.code = u.c AND k.used_order_id IS NULL;
UPDATE campaign_codes k SET used_at = u.order_date, used_order_id = u.id
  FROM (SELECT DISTINCT ON (c) c, o.id, o.order_date
          FROM orders o CROSS JOIN LATERAL unnest(order_discount_codes(o.attributes)) c
         WHERE o.attributes ? 'discount_code' OR o.attributes ? 'discount_codes'
         ORDER BY c, o.order_date, o.id) u
 WHERE k.code = u.c AND k.used_at IS NULL;
