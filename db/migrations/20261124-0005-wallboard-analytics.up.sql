-- The wallboard and sales analytics: when an order was refunded, loyalty tier changes as events,
-- wallboard thresholds and read-only TV tokens (both live through change_log), and the rollups
-- analytics reads. Rollups are never updated in place by the writers' triggers (that would make
-- every order writer queue on one hot row): triggers only append "dirty" markers, and the server
-- recomputes the marked days and customers exactly (server/services/analytics/rollups.ts).

-- Refunds: the moment an order became refunded ----------------------------------------------

ALTER TABLE orders ADD COLUMN refunded_at timestamptz;

-- Orders refunded before this column existed: their last change was the refund.
SET LOCAL pulse.capture = 'off';
ALTER TABLE orders DISABLE TRIGGER orders_touch;
UPDATE orders SET refunded_at = updated_at WHERE status = 'refunded';
ALTER TABLE orders ENABLE TRIGGER orders_touch;

-- An importer may bring the original refund time (the demo seed sets updated_at to it).
CREATE FUNCTION order_track_refund() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status <> 'refunded' THEN
    NEW.refunded_at := NULL;
  ELSIF TG_OP = 'INSERT' THEN
    NEW.refunded_at := coalesce(NEW.refunded_at, NEW.updated_at, now());
  ELSIF OLD.status <> 'refunded' AND NEW.refunded_at IS NOT DISTINCT FROM OLD.refunded_at THEN
    NEW.refunded_at := now();
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER orders_refunded_at BEFORE INSERT OR UPDATE OF status, refunded_at ON orders
  FOR EACH ROW EXECUTE FUNCTION order_track_refund();
CREATE INDEX orders_refunded_at_idx ON orders (refunded_at) WHERE refunded_at IS NOT NULL;

-- Loyalty tier changes, dated by the ledger entry that caused them ----------------------------

CREATE TABLE loyalty_tier_changes (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id   integer NOT NULL REFERENCES loyalty_accounts (id) ON DELETE CASCADE,
  customer_id  integer NOT NULL,
  entry_id     bigint NOT NULL,
  from_tier    loyalty_tier NOT NULL,
  to_tier      loyalty_tier NOT NULL,
  changed_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT loyalty_tier_changes_change CHECK (from_tier <> to_tier)
);
CREATE INDEX loyalty_tier_changes_changed_at_idx ON loyalty_tier_changes (changed_at);
CREATE INDEX loyalty_tier_changes_account_idx ON loyalty_tier_changes (account_id);
CREATE TRIGGER loyalty_tier_changes_capture AFTER INSERT ON loyalty_tier_changes
  FOR EACH ROW EXECUTE FUNCTION capture_change('loyalty_tier_change');

-- As in 0001, plus: a tier change is recorded with the entry's time.
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

-- Tier changes the ledger made before this migration, replayed from the ledger in order.
INSERT INTO loyalty_tier_changes (account_id, customer_id, entry_id, from_tier, to_tier, changed_at)
SELECT account_id, customer_id, id, from_tier, to_tier, created_at
  FROM (
    SELECT l.id, l.account_id, a.customer_id, l.created_at,
           loyalty_tier_for(coalesce(sum(l.lifetime_delta) OVER w_before, 0)::integer) AS from_tier,
           loyalty_tier_for(sum(l.lifetime_delta) OVER w_upto::integer) AS to_tier
      FROM (
        SELECT e.id, e.account_id, e.created_at,
               CASE WHEN e.kind = 'earn' THEN e.points
                    WHEN e.kind = 'reverse' AND r.kind = 'earn' THEN e.points
                    ELSE 0 END AS lifetime_delta
          FROM loyalty_ledger e LEFT JOIN loyalty_ledger r ON r.id = e.reverses_id
      ) l
      JOIN loyalty_accounts a ON a.id = l.account_id
    WINDOW w_upto AS (PARTITION BY l.account_id ORDER BY l.id),
           w_before AS (PARTITION BY l.account_id ORDER BY l.id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
  ) replay
 WHERE from_tier <> to_tier;
SET LOCAL pulse.capture = 'on';

-- The wallboard: thresholds managers set, read-only links for TVs -----------------------------

CREATE TABLE wallboard_thresholds (
  metric      text PRIMARY KEY CHECK (metric IN (
                'orders_today', 'revenue_today', 'average_order_value', 'refunds_today', 'refund_amount_today',
                'open_tickets', 'unassigned', 'waiting_on_agent', 'sla_at_risk', 'sla_breached',
                'first_response_median', 'resolution_median', 'csat_average', 'csat_responses',
                'agents_online', 'agents_busy',
                'points_issued', 'points_redeemed', 'new_members', 'tier_upgrades')),
  comparison  text NOT NULL CHECK (comparison IN ('above', 'below')),
  value       numeric(14, 2) NOT NULL CHECK (value >= 0),
  updated_by  integer REFERENCES users (id) ON DELETE SET NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER wallboard_thresholds_capture AFTER INSERT OR UPDATE OR DELETE ON wallboard_thresholds
  FOR EACH ROW EXECUTE FUNCTION capture_change('wallboard_threshold');

-- Only the SHA-256 of a token is stored; the token itself is shown once, when it is made.
CREATE TABLE wallboard_tokens (
  id            integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  token_hash    text NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  name          text NOT NULL CHECK (name ~ '\S' AND length(name) <= 80),
  created_by    integer REFERENCES users (id) ON DELETE SET NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz,
  revoked_by    integer REFERENCES users (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX wallboard_tokens_hash_key ON wallboard_tokens (token_hash);

-- Revoking (or deleting) a token travels the live path, so every server process disconnects
-- the TVs using it within one read, whoever revoked it.
CREATE FUNCTION capture_wallboard_token_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO change_log (topic, op, entity_id, data)
    VALUES ('wallboard_token', 'delete', OLD.id, jsonb_build_object('id', OLD.id, 'revoked_at', OLD.revoked_at));
  ELSIF NEW.revoked_at IS DISTINCT FROM OLD.revoked_at THEN
    IF OLD.revoked_at IS NOT NULL THEN
      RAISE EXCEPTION 'a revoked wallboard token stays revoked' USING ERRCODE = 'check_violation', CONSTRAINT = 'wallboard_tokens_revoked_for_good';
    END IF;
    INSERT INTO change_log (topic, op, entity_id, data, old)
    VALUES ('wallboard_token', 'update', NEW.id, jsonb_build_object('id', NEW.id, 'revoked_at', NEW.revoked_at),
            jsonb_build_object('revoked_at', OLD.revoked_at));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER wallboard_tokens_capture AFTER UPDATE OR DELETE ON wallboard_tokens
  FOR EACH ROW EXECUTE FUNCTION capture_wallboard_token_change();

-- Support analytics and the wallboard's "today" reads -----------------------------------------

CREATE INDEX tickets_first_responded_at_idx ON tickets (first_responded_at) WHERE first_responded_at IS NOT NULL;
CREATE INDEX tickets_csat_at_idx ON tickets (csat_at) WHERE csat_at IS NOT NULL;
-- Index-only reads of a span of orders (today's for the wallboard, partial months for analytics)
-- and of recent ledger entries: a day's rows are spread over thousands of heap pages otherwise.
CREATE INDEX orders_sales_idx ON orders (order_date) INCLUDE (id, customer_id, total, status, refunded_at);
CREATE INDEX loyalty_ledger_recent_idx ON loyalty_ledger (created_at) INCLUDE (id, kind, points);

-- Analytics rollups ----------------------------------------------------------------------------
-- "Counted" orders are the ones that are sales: every status but cancelled and refunded.
-- Days and months are the store's (STORE_TIMEZONE), which only the server knows: the rollups
-- record the time zone they were built for, and are rebuilt when it changes.

CREATE TABLE analytics_state (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  timezone   text,
  built_at   timestamptz
);
INSERT INTO analytics_state DEFAULT VALUES;

-- Markers: UTC dates whose orders changed, customers whose orders changed. No keys, no
-- conflicts, so writers never wait on each other here.
CREATE TABLE analytics_dirty_days (day date NOT NULL);
CREATE TABLE analytics_dirty_customers (customer_id integer NOT NULL);

CREATE TABLE sales_daily (
  day      date PRIMARY KEY,
  orders   integer NOT NULL CHECK (orders >= 0),
  revenue  numeric(14, 2) NOT NULL
);

CREATE TABLE product_sales_daily (
  day         date NOT NULL,
  product_id  integer NOT NULL,
  orders      integer NOT NULL,
  units       integer NOT NULL,
  revenue     numeric(14, 2) NOT NULL,
  PRIMARY KEY (day, product_id)
);

-- Per customer, all time. The cum_* arrays hold running totals month by month (element 1 is
-- first_month, a month number: year * 12 + month - 1), so the sales of any run of whole months are
-- two array lookups: RFM over a year reads one row per customer instead of twelve.
CREATE TABLE customer_order_stats (
  customer_id     integer PRIMARY KEY,
  first_order_at  timestamptz NOT NULL,
  last_order_at   timestamptz NOT NULL,
  orders          integer NOT NULL,
  revenue         numeric(14, 2) NOT NULL,
  first_month     integer NOT NULL,
  cum_orders      integer[] NOT NULL,
  cum_cents       bigint[] NOT NULL,
  cum_last        timestamptz[] NOT NULL
);
CREATE INDEX customer_order_stats_first_order_idx ON customer_order_stats (first_order_at);
CREATE INDEX customer_order_stats_last_order_idx ON customer_order_stats (last_order_at);

-- `cohort` is the month of the customer's first counted order (the same on all their rows).
CREATE TABLE customer_monthly (
  customer_id     integer NOT NULL,
  month           date NOT NULL,
  cohort          date NOT NULL,
  orders          integer NOT NULL,
  revenue         numeric(14, 2) NOT NULL,
  first_order_at  timestamptz NOT NULL,
  last_order_at   timestamptz NOT NULL,
  PRIMARY KEY (customer_id, month)
);
CREATE INDEX customer_monthly_month_idx ON customer_monthly (month, customer_id);

-- One statement marks each UTC date and customer it touched, once (transition tables), so a
-- 5,000-row import adds a handful of markers, not 5,000.
CREATE FUNCTION analytics_mark_orders() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO analytics_dirty_days SELECT DISTINCT (order_date AT TIME ZONE 'UTC')::date FROM new_rows;
    INSERT INTO analytics_dirty_customers SELECT DISTINCT customer_id FROM new_rows;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO analytics_dirty_days SELECT DISTINCT (order_date AT TIME ZONE 'UTC')::date FROM old_rows;
    INSERT INTO analytics_dirty_customers SELECT DISTINCT customer_id FROM old_rows;
  ELSE
    WITH changed AS (
      SELECT o.order_date AS old_date, n.order_date AS new_date, o.customer_id AS old_customer, n.customer_id AS new_customer
        FROM old_rows o JOIN new_rows n ON n.id = o.id
       WHERE o.order_date IS DISTINCT FROM n.order_date OR o.total IS DISTINCT FROM n.total
          OR o.customer_id IS DISTINCT FROM n.customer_id
          OR (o.status IN ('cancelled', 'refunded')) IS DISTINCT FROM (n.status IN ('cancelled', 'refunded'))
    ), days AS (
      INSERT INTO analytics_dirty_days
      SELECT DISTINCT (d AT TIME ZONE 'UTC')::date FROM changed, LATERAL (VALUES (old_date), (new_date)) v(d)
    )
    INSERT INTO analytics_dirty_customers
    SELECT DISTINCT c FROM changed, LATERAL (VALUES (old_customer), (new_customer)) v(c);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER orders_analytics_insert AFTER INSERT ON orders
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_orders();
CREATE TRIGGER orders_analytics_update AFTER UPDATE ON orders
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_orders();
CREATE TRIGGER orders_analytics_delete AFTER DELETE ON orders
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_orders();

CREATE FUNCTION analytics_mark_order_items() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO analytics_dirty_days
    SELECT DISTINCT (o.order_date AT TIME ZONE 'UTC')::date FROM new_rows i JOIN orders o ON o.id = i.order_id;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO analytics_dirty_days
    SELECT DISTINCT (o.order_date AT TIME ZONE 'UTC')::date FROM old_rows i JOIN orders o ON o.id = i.order_id;
  ELSE
    INSERT INTO analytics_dirty_days
    SELECT DISTINCT (o.order_date AT TIME ZONE 'UTC')::date
      FROM (SELECT order_id FROM old_rows UNION SELECT order_id FROM new_rows) i JOIN orders o ON o.id = i.order_id;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER order_items_analytics_insert AFTER INSERT ON order_items
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_order_items();
CREATE TRIGGER order_items_analytics_update AFTER UPDATE ON order_items
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_order_items();
CREATE TRIGGER order_items_analytics_delete AFTER DELETE ON order_items
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_order_items();
