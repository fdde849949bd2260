-- A refund takes an order's loyalty points back exactly once, and the order stops counting.
--
-- A clawback (what is left of an earning when some of it was spent already) is linked to the
-- earning it takes back, through reverses_id like a reversal, so the unique index on reverses_id
-- lets an earning be taken back once, by a reversal or by a clawback. A clawback may take nothing
-- (every point was spent) and still records that the order no longer counts. Either way lifetime
-- points lose the whole earning, and the tier follows.

-- Ledger rules ---------------------------------------------------------------------------------

ALTER TABLE loyalty_ledger DROP CONSTRAINT loyalty_ledger_reverse_target;
ALTER TABLE loyalty_ledger ADD CONSTRAINT loyalty_ledger_reverse_target CHECK (
  CASE kind WHEN 'reverse' THEN reverses_id IS NOT NULL WHEN 'adjust' THEN true ELSE reverses_id IS NULL END
);
ALTER TABLE loyalty_ledger DROP CONSTRAINT loyalty_ledger_points_check;
ALTER TABLE loyalty_ledger ADD CONSTRAINT loyalty_ledger_points_check CHECK (
  points <> 0 OR (kind = 'adjust' AND reverses_id IS NOT NULL)
);

-- As in 0005, plus clawbacks: an adjustment that names an entry takes back part (or none) of an
-- earning of the same account, and the earning leaves lifetime points whole.
CREATE OR REPLACE FUNCTION loyalty_apply_entry() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  lifetime_delta integer := 0;
  target loyalty_ledger%ROWTYPE;
  before_tier loyalty_tier;
  after_tier loyalty_tier;
  member integer;
BEGIN
  IF NEW.kind = 'earn' THEN
    lifetime_delta := NEW.points;
  ELSIF NEW.reverses_id IS NOT NULL THEN
    SELECT * INTO target FROM loyalty_ledger WHERE id = NEW.reverses_id;
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
  SELECT tier INTO before_tier FROM loyalty_accounts WHERE id = NEW.account_id FOR NO KEY UPDATE;
  PERFORM set_config('pulse.ledger_apply', 'on', true);
  UPDATE loyalty_accounts
     SET balance = balance + NEW.points,
         lifetime_points = GREATEST(lifetime_points + lifetime_delta, 0),
         tier = loyalty_tier_for(GREATEST(lifetime_points + lifetime_delta, 0))
   WHERE id = NEW.account_id
  RETURNING tier, customer_id INTO after_tier, member;
  PERFORM set_config('pulse.ledger_apply', 'off', true);
  IF after_tier IS DISTINCT FROM before_tier THEN
    INSERT INTO loyalty_tier_changes (account_id, customer_id, entry_id, from_tier, to_tier, changed_at)
    VALUES (NEW.account_id, member, NEW.id, before_tier, after_tier, NEW.created_at);
  END IF;
  RETURN NEW;
END $$;

-- Clawbacks written by 0007 were not linked; their idempotency key names the earning. Linking
-- them keeps a later call from reversing those earnings again, and their accounts' lifetime
-- points (and tier) drop as they would have under these rules.
SET LOCAL pulse.ledger_apply = 'on';
ALTER TABLE loyalty_ledger DISABLE TRIGGER loyalty_ledger_append_only;
WITH linked AS (
  UPDATE loyalty_ledger c
     SET reverses_id = e.id
    FROM loyalty_ledger e
   WHERE c.kind = 'adjust' AND c.reverses_id IS NULL
     AND c.idempotency_key = format('order:%s:clawback:%s', c.order_id, e.id)
     AND e.kind = 'earn' AND e.account_id = c.account_id AND -c.points <= e.points
     AND NOT EXISTS (SELECT 1 FROM loyalty_ledger r WHERE r.reverses_id = e.id)
  RETURNING c.account_id, e.points
), lost AS (
  SELECT account_id, sum(points)::integer AS points FROM linked GROUP BY account_id
)
UPDATE loyalty_accounts a
   SET lifetime_points = GREATEST(a.lifetime_points - lost.points, 0),
       tier = loyalty_tier_for(GREATEST(a.lifetime_points - lost.points, 0))
  FROM lost
 WHERE a.id = lost.account_id;
ALTER TABLE loyalty_ledger ENABLE TRIGGER loyalty_ledger_append_only;
SET LOCAL pulse.ledger_apply = 'off';

-- The reversal ---------------------------------------------------------------------------------

-- Takes back what an order moved in the loyalty ledger, for a refund or a cancellation: earned
-- points are reversed (when some were spent since, a clawback takes back what is left) and
-- redeemed points are returned. Each entry is taken back once, so a second call, concurrent or
-- later, does nothing. The app's refund and the simulator both call this; returns the net points
-- moved.
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
