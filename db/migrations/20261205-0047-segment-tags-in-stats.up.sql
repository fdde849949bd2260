-- A customer's tags, kept in customer_stats beside the numbers (issue 12's speed targets,
-- docs/performance.md "Segments, session 11"). A segment that mixes tags with the numbers under an
-- OR ("tagged vip OR 10+ orders") had to join every customer to their summary before it could test
-- either side (640-685 ms at 1M customers); with both in one table each side is an index of it and
-- the planner ORs the two bitmaps.
--
-- customers.tags stays the one place tags are written: this copy follows it in the same statement
-- (a new customer's summary row is made with their tags; an update of customers copies the tags
-- that changed), so it is never behind what a transaction can see.

ALTER TABLE customer_stats ADD COLUMN tags text[] NOT NULL DEFAULT '{}';

CREATE OR REPLACE FUNCTION customer_stats_for_new_customers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.customer_stats (customer_id, tags) SELECT id, tags FROM new_rows ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

-- Statement level, as the other summaries: a bulk tagging of 100,000 customers is one join. The
-- rows whose tags change are locked in customer order first, as refresh_customer_stats and
-- segment_evaluate lock them, so a bulk tagging beside order commits queues instead of deadlocking.
CREATE FUNCTION customer_stats_tags_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM public.customer_stats s JOIN new_rows n ON n.id = s.customer_id
   WHERE s.tags IS DISTINCT FROM n.tags ORDER BY s.customer_id FOR UPDATE OF s;
  UPDATE public.customer_stats s SET tags = n.tags
    FROM new_rows n
   WHERE s.customer_id = n.id AND s.tags IS DISTINCT FROM n.tags;
  RETURN NULL;
END $$;
CREATE TRIGGER customers_stats_tags AFTER UPDATE ON customers
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_stats_tags_follow();

-- 0039's refresh: a summary row it has to make again carries the customer's tags.
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
         open_tickets = t.n, points = coalesce(la.balance, 0), tier = la.tier
    FROM unnest(ids) AS u (id)
    CROSS JOIN LATERAL (
      SELECT coalesce(sum(total) FILTER (WHERE status NOT IN ('cancelled', 'refunded')), 0) AS spend,
             count(*)::integer AS n, max(order_date) AS last_at, min(order_date) AS first_at
        FROM public.orders WHERE customer_id = u.id) o
    CROSS JOIN LATERAL (
      SELECT count(*)::integer AS n FROM public.tickets
       WHERE customer_id = u.id AND status IN ('new', 'open', 'pending')) t
    LEFT JOIN public.loyalty_accounts la ON la.customer_id = u.id
   WHERE s.customer_id = u.id
     AND (s.lifetime_spend, s.order_count, s.last_order_at, s.first_order_at, s.open_tickets, s.points, s.tier)
         IS DISTINCT FROM (o.spend, o.n, o.last_at, o.first_at, t.n, coalesce(la.balance, 0), la.tier);
END $$;

-- The backfill. Nobody's membership changes (the rules still read customers.tags until the server
-- recompiles them, and the copy is equal), so the segments' dirty marking stays off while it runs.
ALTER TABLE customer_stats DISABLE TRIGGER customer_stats_segment_dirty_update;
UPDATE customer_stats s SET tags = c.tags FROM customers c WHERE c.id = s.customer_id AND c.tags <> '{}';
ALTER TABLE customer_stats ENABLE TRIGGER customer_stats_segment_dirty_update;

CREATE INDEX customer_stats_tags_idx ON customer_stats USING gin (tags);

-- Statistics of the new column for the planner (a rule's count and preview estimate from them).
ANALYZE customer_stats;
