DROP TRIGGER IF EXISTS order_items_analytics_insert ON order_items;
DROP TRIGGER IF EXISTS order_items_analytics_update ON order_items;
DROP TRIGGER IF EXISTS order_items_analytics_delete ON order_items;
DROP TRIGGER IF EXISTS orders_analytics_insert ON orders;
DROP TRIGGER IF EXISTS orders_analytics_update ON orders;
DROP TRIGGER IF EXISTS orders_analytics_delete ON orders;
DROP FUNCTION IF EXISTS analytics_mark_order_items(), analytics_mark_orders();
DROP TABLE IF EXISTS customer_monthly, customer_order_stats, product_sales_daily, sales_daily,
  analytics_dirty_customers, analytics_dirty_days, analytics_state;

DROP INDEX IF EXISTS tickets_first_responded_at_idx, tickets_csat_at_idx, orders_sales_idx, loyalty_ledger_recent_idx;

DROP TABLE IF EXISTS wallboard_tokens, wallboard_thresholds;
DROP FUNCTION IF EXISTS capture_wallboard_token_change();

-- The ledger trigger as 0001 made it.
CREATE OR REPLACE FUNCTION loyalty_apply_entry() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  lifetime_delta integer := 0;
  reversed loyalty_ledger%ROWTYPE;
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
  PERFORM set_config('pulse.ledger_apply', 'on', true);
  UPDATE loyalty_accounts
     SET balance = balance + NEW.points,
         lifetime_points = GREATEST(lifetime_points + lifetime_delta, 0),
         tier = loyalty_tier_for(GREATEST(lifetime_points + lifetime_delta, 0))
   WHERE id = NEW.account_id;
  PERFORM set_config('pulse.ledger_apply', 'off', true);
  RETURN NEW;
END $$;
DROP TABLE IF EXISTS loyalty_tier_changes;

DROP TRIGGER IF EXISTS orders_refunded_at ON orders;
DROP FUNCTION IF EXISTS order_track_refund();
DROP INDEX IF EXISTS orders_refunded_at_idx;
ALTER TABLE orders DROP COLUMN IF EXISTS refunded_at;
