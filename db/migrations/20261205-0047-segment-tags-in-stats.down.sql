-- Saved segments compiled by this migration's server read what is dropped here: the server
-- being rolled back to recompiles them (compilePending) once their compiled SQL is gone.
UPDATE segments SET compiled_where = NULL, compiled_with = 0;
DROP INDEX customer_stats_tags_idx;
DROP TRIGGER customers_stats_tags ON customers;
DROP FUNCTION customer_stats_tags_follow();
CREATE OR REPLACE FUNCTION customer_stats_for_new_customers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.customer_stats (customer_id) SELECT id FROM new_rows ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION refresh_customer_stats(ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM public.customer_stats s
   USING public.customers c
   WHERE s.customer_id = ANY (ids) AND c.id = s.customer_id AND c.merged_into IS NOT NULL;
  INSERT INTO public.customer_stats (customer_id)
  SELECT c.id FROM public.customers c WHERE c.id = ANY (ids) AND c.merged_into IS NULL
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
ALTER TABLE customer_stats DROP COLUMN tags;
