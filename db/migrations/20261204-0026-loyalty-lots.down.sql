DROP TABLE loyalty_reward_codes;
-- Scheduled work and earning on an order.
DROP FUNCTION loyalty_expire_points(timestamptz);
DROP FUNCTION loyalty_release_pending(timestamptz);
DROP TRIGGER orders_loyalty_earn ON orders;
DROP FUNCTION loyalty_order_paid();
DROP FUNCTION loyalty_earn_order(integer);

-- As in 0008.
CREATE OR REPLACE FUNCTION loyalty_reverse_order(order_id integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  e loyalty_ledger;
  bal integer;
  net integer := 0;
BEGIN
  -- Calls for one order queue on its row (NO KEY UPDATE: a ledger insert naming the order holds
  -- KEY SHARE on it, which FOR UPDATE would wait for). Then the accounts, so that no redemption
  -- moves a balance between reading it and taking points back.
  PERFORM 1 FROM orders o WHERE o.id = loyalty_reverse_order.order_id FOR NO KEY UPDATE;
  PERFORM 1 FROM loyalty_accounts a
   WHERE a.id IN (SELECT l.account_id FROM loyalty_ledger l WHERE l.order_id = loyalty_reverse_order.order_id)
   ORDER BY a.id
     FOR NO KEY UPDATE;
  -- What is left to take back is decided only now, holding the locks: in READ COMMITTED this
  -- query's snapshot is taken after them, so it sees a reversal that a call we waited for
  -- committed. (Under REPEATABLE READ such a call fails instead: a serialization error on the
  -- account or the unique index on reverses_id, never a second reversal.)
  FOR e IN
    SELECT * FROM loyalty_ledger l
     WHERE l.order_id = loyalty_reverse_order.order_id AND l.kind IN ('earn', 'redeem')
       AND NOT EXISTS (SELECT 1 FROM loyalty_ledger r WHERE r.reverses_id = l.id)
     ORDER BY l.kind DESC, l.id -- redemptions first: the points they return may cover the earning
  LOOP
    SELECT a.balance INTO bal FROM loyalty_accounts a WHERE a.id = e.account_id;
    IF e.kind = 'redeem' OR bal >= e.points THEN
      INSERT INTO loyalty_ledger (account_id, kind, points, reason, order_id, reverses_id, idempotency_key)
      VALUES (e.account_id, 'reverse', -e.points, format('Order #%s reversed', loyalty_reverse_order.order_id),
              loyalty_reverse_order.order_id, e.id, format('order:%s:reverse:%s', loyalty_reverse_order.order_id, e.id));
      net := net - e.points;
    ELSE
      -- Some of the earned points were spent already: take back what is left, perhaps nothing.
      INSERT INTO loyalty_ledger (account_id, kind, points, reason, order_id, reverses_id, idempotency_key)
      VALUES (e.account_id, 'adjust', -bal,
              format('Order #%s reversed (%s points already spent)', loyalty_reverse_order.order_id, e.points - bal),
              loyalty_reverse_order.order_id, e.id, format('order:%s:clawback:%s', loyalty_reverse_order.order_id, e.id));
      net := net - bal;
    END IF;
  END LOOP;
  RETURN net;
END $$;

-- As in 0017.
CREATE OR REPLACE FUNCTION loyalty_ledger_moved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  m record;
  before_tier public.loyalty_tier;
  after_tier public.loyalty_tier;
  member integer;
BEGIN
  FOR m IN
    SELECT o.account_id AS from_id, n.account_id AS to_id, sum(n.points)::integer AS points,
           sum(CASE WHEN n.kind = 'earn' THEN n.points ELSE 0 END)::integer
             - coalesce(sum(t.points) FILTER (WHERE t.kind = 'earn'), 0)::integer AS lifetime,
           max(n.id) AS last_entry, max(n.created_at) AS last_at
      FROM new_rows n
      JOIN old_rows o ON o.id = n.id
      LEFT JOIN public.loyalty_ledger t ON t.id = n.reverses_id
     WHERE o.account_id <> n.account_id
     GROUP BY o.account_id, n.account_id
     ORDER BY least(o.account_id, n.account_id)
  LOOP
    FOR member IN SELECT unnest(ARRAY[m.from_id, m.to_id]) ORDER BY 1 LOOP
      SELECT tier INTO before_tier FROM public.loyalty_accounts WHERE id = member FOR NO KEY UPDATE;
      PERFORM set_config('pulse.ledger_apply', 'on', true);
      UPDATE public.loyalty_accounts
         SET balance = balance + CASE WHEN id = m.to_id THEN m.points ELSE -m.points END,
             lifetime_points = GREATEST(lifetime_points + CASE WHEN id = m.to_id THEN m.lifetime ELSE -m.lifetime END, 0),
             tier = public.loyalty_tier_for(GREATEST(lifetime_points + CASE WHEN id = m.to_id THEN m.lifetime ELSE -m.lifetime END, 0))
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

-- As in 0011.
CREATE OR REPLACE FUNCTION loyalty_apply_entry() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  lifetime_delta integer := 0;
  target public.loyalty_ledger%ROWTYPE;
  before_tier public.loyalty_tier;
  after_tier public.loyalty_tier;
  member integer;
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
  -- would deadlock two concurrent entries of one account against each other's share lock.
  SELECT tier INTO before_tier FROM public.loyalty_accounts WHERE id = NEW.account_id FOR NO KEY UPDATE;
  PERFORM set_config('pulse.ledger_apply', 'on', true);
  UPDATE public.loyalty_accounts
     SET balance = balance + NEW.points,
         lifetime_points = GREATEST(lifetime_points + lifetime_delta, 0),
         tier = public.loyalty_tier_for(GREATEST(lifetime_points + lifetime_delta, 0))
   WHERE id = NEW.account_id
  RETURNING tier, customer_id INTO after_tier, member;
  PERFORM set_config('pulse.ledger_apply', 'off', true);
  IF after_tier IS DISTINCT FROM before_tier THEN
    INSERT INTO public.loyalty_tier_changes (account_id, customer_id, entry_id, from_tier, to_tier, changed_at)
    VALUES (NEW.account_id, member, NEW.id, before_tier, after_tier, NEW.created_at);
  END IF;
  RETURN NEW;
END $$;

-- As in 0010.
CREATE OR REPLACE FUNCTION loyalty_guard_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (pg_trigger_depth() < 2 OR current_setting('pulse.ledger_apply', true) IS DISTINCT FROM 'on')
     AND (TG_OP = 'INSERT' AND (NEW.balance <> 0 OR NEW.lifetime_points <> 0 OR NEW.tier <> 'bronze')
          OR TG_OP = 'UPDATE' AND (NEW.balance, NEW.lifetime_points, NEW.tier) IS DISTINCT FROM (OLD.balance, OLD.lifetime_points, OLD.tier)) THEN
    RAISE EXCEPTION 'loyalty balances change only through loyalty_ledger entries'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'loyalty_accounts_ledger_only';
  END IF;
  RETURN NEW;
END $$;

DROP VIEW loyalty_lot_expiries;
DROP TRIGGER loyalty_lot_released ON loyalty_lots;
DROP FUNCTION loyalty_lot_released();
DROP TRIGGER loyalty_lots_ledger_only ON loyalty_lots;
DROP FUNCTION loyalty_guard_lot();
ALTER TABLE loyalty_accounts DROP CONSTRAINT loyalty_accounts_pending;
ALTER TABLE loyalty_accounts DROP COLUMN pending;
DROP TABLE loyalty_lot_moves;
DROP TABLE loyalty_lots;

ALTER TABLE loyalty_ledger DROP CONSTRAINT loyalty_ledger_goodwill;
DROP INDEX loyalty_ledger_ticket_idx;
ALTER TABLE loyalty_ledger DROP COLUMN ticket_id;
DROP TRIGGER loyalty_ledger_program_version ON loyalty_ledger;
DROP FUNCTION loyalty_ledger_program_version();
ALTER TABLE loyalty_ledger DROP COLUMN program_version_id;
DROP FUNCTION loyalty_program_at(timestamptz);
DROP FUNCTION loyalty_program_version_at(timestamptz);
DROP TABLE loyalty_program_versions;
DROP FUNCTION loyalty_program_versions_guard();
