-- Takes back what an order moved in the loyalty ledger, for a refund or a cancellation: earned
-- points are reversed (down to zero when some were spent since: an adjustment takes back what is
-- left) and redeemed points are returned. Each entry is reversed once, so a second call does
-- nothing. The app's refund and the simulator both call this; returns the net points moved.
CREATE FUNCTION loyalty_reverse_order(order_id integer) RETURNS integer LANGUAGE plpgsql AS $$
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
