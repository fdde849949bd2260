-- Back to 0007's reversal and 0005's ledger trigger. Under those rules a clawback is not linked to
-- the earning and the earning still counts toward lifetime points: the earnings come back into
-- lifetime points (and the tier), clawbacks lose their link, and those that took nothing back go,
-- since every entry has to move points again.
SET LOCAL pulse.ledger_apply = 'on';
WITH regained AS (
  SELECT c.account_id, sum(e.points)::integer AS points
    FROM loyalty_ledger c JOIN loyalty_ledger e ON e.id = c.reverses_id
   WHERE c.kind = 'adjust'
   GROUP BY c.account_id
)
UPDATE loyalty_accounts a
   SET lifetime_points = a.lifetime_points + regained.points,
       tier = loyalty_tier_for(a.lifetime_points + regained.points)
  FROM regained
 WHERE a.id = regained.account_id;
SET LOCAL pulse.ledger_apply = 'off';
ALTER TABLE loyalty_ledger DISABLE TRIGGER loyalty_ledger_append_only;
DELETE FROM loyalty_ledger WHERE kind = 'adjust' AND points = 0;
UPDATE loyalty_ledger SET reverses_id = NULL WHERE kind = 'adjust' AND reverses_id IS NOT NULL;
ALTER TABLE loyalty_ledger ENABLE TRIGGER loyalty_ledger_append_only;

ALTER TABLE loyalty_ledger DROP CONSTRAINT loyalty_ledger_points_check;
ALTER TABLE loyalty_ledger ADD CONSTRAINT loyalty_ledger_points_check CHECK (points <> 0);
ALTER TABLE loyalty_ledger DROP CONSTRAINT loyalty_ledger_reverse_target;
ALTER TABLE loyalty_ledger ADD CONSTRAINT loyalty_ledger_reverse_target CHECK ((kind = 'reverse') = (reverses_id IS NOT NULL));

-- The ledger trigger as 0005 made it.
CREATE OR REPLACE FUNCTION loyalty_apply_entry() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  lifetime_delta integer := 0;
  reversed loyalty_ledger%ROWTYPE;
  before_tier loyalty_tier;
  after_tier loyalty_tier;
  member integer;
BEGIN
  IF NEW.kind = 'earn' THEN
    lifetime_delta := NEW.points;
  ELSIF NEW.kind = 'reverse' THEN
    SELECT * INTO reversed FROM loyalty_ledger WHERE id = NEW.reverses_id;
    IF reversed.kind = 'reverse' OR reversed.account_id <> NEW.account_id OR NEW.points <> -reversed.points THEN
      RAISE EXCEPTION 'a reversal must undo exactly one entry (not a reversal) of the same account: %', NEW.reverses_id
        USING ERRCODE = 'check_violation', CONSTRAINT = 'loyalty_ledger_reverse_exact';
    END IF;
    IF reversed.kind = 'earn' THEN
      lifetime_delta := NEW.points;
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

-- The reversal as 0007 made it.
-- Takes back what an order moved in the loyalty ledger, for a refund or a cancellation: earned
-- points are reversed (down to zero when some were spent since: an adjustment takes back what is
-- left) and redeemed points are returned. Each entry is reversed once, so a second call does
-- nothing. The app's refund and the simulator both call this; returns the net points moved.
CREATE OR REPLACE FUNCTION loyalty_reverse_order(order_id integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  entries loyalty_ledger[];
  e loyalty_ledger;
  acct integer;
  bal integer;
  net integer := 0;
BEGIN
  -- Every account involved is locked before anything is written: a row lock taken while looping
  -- would skip an account row this transaction has already changed.
  SELECT array_agg(entry ORDER BY (entry).kind DESC, (entry).id) INTO entries
    FROM (SELECT l AS entry
            FROM loyalty_ledger l JOIN loyalty_accounts a ON a.id = l.account_id
           WHERE l.order_id = loyalty_reverse_order.order_id AND l.kind IN ('earn', 'redeem')
             AND NOT EXISTS (SELECT 1 FROM loyalty_ledger r WHERE r.reverses_id = l.id)
           ORDER BY l.kind DESC, l.id
             FOR UPDATE OF a) AS locked;
  FOREACH e IN ARRAY coalesce(entries, '{}') LOOP
    -- The balance is read once per account and then follows the entries written here.
    IF e.account_id IS DISTINCT FROM acct THEN
      acct := e.account_id;
      SELECT a.balance INTO bal FROM loyalty_accounts a WHERE a.id = acct;
    END IF;
    IF e.kind = 'redeem' OR bal >= e.points THEN
      INSERT INTO loyalty_ledger (account_id, kind, points, reason, order_id, reverses_id, idempotency_key)
      VALUES (acct, 'reverse', -e.points, format('Order #%s reversed', loyalty_reverse_order.order_id),
              loyalty_reverse_order.order_id, e.id, format('order:%s:reverse:%s', loyalty_reverse_order.order_id, e.id));
      bal := bal - e.points;
      net := net - e.points;
    ELSIF bal > 0 THEN
      -- Some of the earned points were spent already: take back what is left.
      INSERT INTO loyalty_ledger (account_id, kind, points, reason, order_id, idempotency_key)
      VALUES (acct, 'adjust', -bal,
              format('Order #%s reversed (%s points already spent)', loyalty_reverse_order.order_id, e.points - bal),
              loyalty_reverse_order.order_id, format('order:%s:clawback:%s', loyalty_reverse_order.order_id, e.id));
      net := net - bal;
      bal := 0;
    END IF;
  END LOOP;
  RETURN net;
END $$;
