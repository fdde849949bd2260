-- Recent spend and order count over 30, 90 and 365 days, kept in customer_stats (issue 12's speed
-- targets, docs/performance.md "Segments, session 11"). "Spent 200 or more in the last 30 days"
-- summed the last 30 days of orders for every customer on each count (543k orders at 1M
-- customers: 0.85-1 s); with the sums kept, a count reads one column of the summary.
--
-- A window is whole UTC days: "the last 30 days" are the orders since the start of the day 30
-- days before today, as the rules compile it everywhere (server/services/segments/compile.ts).
-- Two things keep the figures exact:
-- - refresh_customer_stats (every change of a customer's orders, at commit) computes them with
--   the day it runs in;
-- - each day, orders of the day that left a window leave the figures: the server's roll
--   (server/services/segments/recent.ts) refreshes the customers who have orders on the days that
--   left, then moves customer_stats_recent.day to today. Until it has, the server reads the orders
--   themselves instead of the figures, so nothing reads a day-old sum.

ALTER TABLE customer_stats
  ADD COLUMN spend_30d numeric(14, 2) NOT NULL DEFAULT 0,
  ADD COLUMN spend_90d numeric(14, 2) NOT NULL DEFAULT 0,
  ADD COLUMN spend_365d numeric(14, 2) NOT NULL DEFAULT 0,
  ADD COLUMN orders_30d integer NOT NULL DEFAULT 0,
  ADD COLUMN orders_90d integer NOT NULL DEFAULT 0,
  ADD COLUMN orders_365d integer NOT NULL DEFAULT 0;

-- The UTC day every row's windows end on (the roll moves it once all of them do).
CREATE TABLE customer_stats_recent (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  day       date NOT NULL
);

-- The first instant of a window of `days` whole days ending on the UTC day of `at`. Computed on
-- UTC wall-clock time, so a session's own time zone (a daylight-saving change in it) moves nothing.
CREATE FUNCTION recent_window_start(days integer, at timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (date_trunc('day', at AT TIME ZONE 'UTC') - make_interval(days => days)) AT TIME ZONE 'UTC'
$$;

-- 0047's refresh, with the windows. They start from the clock when the row is computed (after its
-- lock is held), so a transaction that began before midnight and computes after it counts today's.
CREATE OR REPLACE FUNCTION refresh_customer_stats(ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM public.customer_stats s
   USING public.customers c
   WHERE s.customer_id = ANY (ids) AND c.id = s.customer_id AND c.merged_into IS NOT NULL;
  INSERT INTO public.customer_stats (customer_id, tags)
  SELECT c.id, c.tags FROM public.customers c WHERE c.id = ANY (ids) AND c.merged_into IS NULL
  ON CONFLICT (customer_id) DO NOTHING;
  PERFORM 1 FROM public.customer_stats WHERE customer_id = ANY (ids) ORDER BY customer_id FOR UPDATE;
  UPDATE public.customer_stats s
     SET lifetime_spend = o.spend, order_count = o.n, last_order_at = o.last_at, first_order_at = o.first_at,
         open_tickets = t.n, points = coalesce(la.balance, 0), tier = la.tier,
         spend_30d = o.s30, spend_90d = o.s90, spend_365d = o.s365,
         orders_30d = o.n30, orders_90d = o.n90, orders_365d = o.n365
    FROM unnest(ids) AS u (id)
    CROSS JOIN (SELECT public.recent_window_start(30, clock_timestamp()) AS w30,
                       public.recent_window_start(90, clock_timestamp()) AS w90,
                       public.recent_window_start(365, clock_timestamp()) AS w365) w
    CROSS JOIN LATERAL (
      SELECT coalesce(sum(total) FILTER (WHERE counted), 0) AS spend,
             count(*)::integer AS n, max(order_date) AS last_at, min(order_date) AS first_at,
             coalesce(sum(total) FILTER (WHERE counted AND order_date >= w.w30), 0) AS s30,
             coalesce(sum(total) FILTER (WHERE counted AND order_date >= w.w90), 0) AS s90,
             coalesce(sum(total) FILTER (WHERE counted AND order_date >= w.w365), 0) AS s365,
             (count(*) FILTER (WHERE counted AND order_date >= w.w30))::integer AS n30,
             (count(*) FILTER (WHERE counted AND order_date >= w.w90))::integer AS n90,
             (count(*) FILTER (WHERE counted AND order_date >= w.w365))::integer AS n365
        FROM (SELECT total, order_date, status NOT IN ('cancelled', 'refunded') AS counted
                FROM public.orders WHERE customer_id = u.id) x) o
    CROSS JOIN LATERAL (
      SELECT count(*)::integer AS n FROM public.tickets
       WHERE customer_id = u.id AND status IN ('new', 'open', 'pending')) t
    LEFT JOIN public.loyalty_accounts la ON la.customer_id = u.id
   WHERE s.customer_id = u.id
     AND (s.lifetime_spend, s.order_count, s.last_order_at, s.first_order_at, s.open_tickets, s.points, s.tier,
          s.spend_30d, s.spend_90d, s.spend_365d, s.orders_30d, s.orders_90d, s.orders_365d)
         IS DISTINCT FROM (o.spend, o.n, o.last_at, o.first_at, t.n, coalesce(la.balance, 0), la.tier,
                           o.s30, o.s90, o.s365, o.n30, o.n90, o.n365);
END $$;

-- Customers with an order on a day that left one of the windows after `since` (a UTC day) and
-- by `until`: the ones a roll from `since` to `until` refreshes.
CREATE FUNCTION recent_window_leavers(since date, until date) RETURNS SETOF integer
LANGUAGE sql STABLE AS $$
  SELECT DISTINCT o.customer_id
    FROM unnest(ARRAY[30, 90, 365]) AS w (days)
    JOIN public.orders o
      ON o.order_date >= public.recent_window_start(w.days, since::timestamp AT TIME ZONE 'UTC')
     AND o.order_date < public.recent_window_start(w.days, until::timestamp AT TIME ZONE 'UTC')
   WHERE o.customer_id IS NOT NULL
   ORDER BY 1
$$;

-- The backfill: every customer's windows as of now. An UPDATE of every summary would leave a dead
-- copy of each row and of each of its index entries behind (at 1M customers the table and its
-- indexes doubled, and counts read twice the pages until a VACUUM FULL), so the summaries are
-- written again instead: computed into a temporary table, then the table is emptied and filled
-- from it, compact. Membership does not change (the figures are what the rules sum from orders),
-- so the table's own triggers (RFM, the segments' dirty marking) are off while it is refilled;
-- the foreign key to customers is still checked. TRUNCATE takes the table's exclusive lock, as
-- the ADD COLUMN above already did.
SET LOCAL work_mem = '256MB';
CREATE TEMPORARY TABLE customer_stats_refill ON COMMIT DROP AS SELECT * FROM customer_stats;
UPDATE customer_stats_refill s
   SET spend_30d = o.s30, spend_90d = o.s90, spend_365d = o.s365,
       orders_30d = o.n30, orders_90d = o.n90, orders_365d = o.n365
  FROM (SELECT o.customer_id,
               coalesce(sum(o.total) FILTER (WHERE o.order_date >= recent_window_start(30, now())), 0) AS s30,
               coalesce(sum(o.total) FILTER (WHERE o.order_date >= recent_window_start(90, now())), 0) AS s90,
               coalesce(sum(o.total), 0) AS s365,
               count(*) FILTER (WHERE o.order_date >= recent_window_start(30, now()))::integer AS n30,
               count(*) FILTER (WHERE o.order_date >= recent_window_start(90, now()))::integer AS n90,
               count(*)::integer AS n365
          FROM orders o
         WHERE o.order_date >= recent_window_start(365, now()) AND o.status NOT IN ('cancelled', 'refunded')
         GROUP BY o.customer_id) o
 WHERE s.customer_id = o.customer_id;
ALTER TABLE customer_stats DISABLE TRIGGER USER;
TRUNCATE customer_stats;
INSERT INTO customer_stats SELECT * FROM customer_stats_refill ORDER BY customer_id;
ALTER TABLE customer_stats ENABLE TRIGGER USER;
INSERT INTO customer_stats_recent (day) VALUES ((now() AT TIME ZONE 'UTC')::date);

-- A count of "spent 200 or more in 30 days" reads an index rather than every customer's summary
-- (a scan of 1M summaries: 230-340 ms). Only customers with something in the window are in
-- them, so the many without cost no index entry when their summary changes.
CREATE INDEX customer_stats_spend_30d_idx ON customer_stats (spend_30d) WHERE spend_30d > 0;
CREATE INDEX customer_stats_spend_90d_idx ON customer_stats (spend_90d) WHERE spend_90d > 0;
CREATE INDEX customer_stats_spend_365d_idx ON customer_stats (spend_365d) WHERE spend_365d > 0;
CREATE INDEX customer_stats_orders_30d_idx ON customer_stats (orders_30d) WHERE orders_30d > 0;
CREATE INDEX customer_stats_orders_90d_idx ON customer_stats (orders_90d) WHERE orders_90d > 0;
CREATE INDEX customer_stats_orders_365d_idx ON customer_stats (orders_365d) WHERE orders_365d > 0;

-- Statistics of the new columns for the planner (a rule's count and preview estimate from them).
ANALYZE customer_stats;
