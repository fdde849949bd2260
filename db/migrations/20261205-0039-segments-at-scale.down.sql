-- Undoes 0039: the per-segment evaluation, the cut-off refresh and the stats refresh of 0028 and
-- 0022, without the stored first order and RFM. Segments compiled against the new columns are
-- compiled again by the server at start.
UPDATE segments SET compiled_where = NULL, compiled_with = 0;

CREATE OR REPLACE FUNCTION segment_evaluate(ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  seg integer;
BEGIN
  FOR seg IN SELECT id FROM public.segments WHERE compiled_where IS NOT NULL ORDER BY id LOOP
    PERFORM public.segment_evaluate_one(seg, ids);
  END LOOP;
END $$;

CREATE OR REPLACE FUNCTION segment_mark_dirty(ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF ids IS NOT NULL AND EXISTS (SELECT 1 FROM public.segments WHERE compiled_where IS NOT NULL) THEN
    INSERT INTO public.segment_dirty (customer_id) SELECT DISTINCT unnest(ids) ON CONFLICT DO NOTHING;
  END IF;
END $$;

DROP FUNCTION segment_refresh_rfm_cutoffs();
CREATE FUNCTION segment_refresh_rfm_cutoffs() RETURNS void LANGUAGE sql AS $$
  INSERT INTO public.segment_rfm_cutoffs (recency, frequency, monetary, computed_at)
  SELECT percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY last_order_at),
         percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY order_count),
         percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY lifetime_spend),
         now()
    FROM public.customer_stats WHERE order_count > 0 AND last_order_at IS NOT NULL
  HAVING count(*) > 0
  ON CONFLICT (singleton) DO UPDATE
    SET recency = EXCLUDED.recency, frequency = EXCLUDED.frequency, monetary = EXCLUDED.monetary,
        computed_at = EXCLUDED.computed_at;
$$;

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
     SET lifetime_spend = o.spend, order_count = o.n, last_order_at = o.last_at,
         open_tickets = t.n, points = coalesce(la.balance, 0), tier = la.tier
    FROM unnest(ids) AS u (id)
    CROSS JOIN LATERAL (
      SELECT coalesce(sum(total) FILTER (WHERE status NOT IN ('cancelled', 'refunded')), 0) AS spend,
             count(*)::integer AS n, max(order_date) AS last_at
        FROM public.orders WHERE customer_id = u.id) o
    CROSS JOIN LATERAL (
      SELECT count(*)::integer AS n FROM public.tickets
       WHERE customer_id = u.id AND status IN ('new', 'open', 'pending')) t
    LEFT JOIN public.loyalty_accounts la ON la.customer_id = u.id
   WHERE s.customer_id = u.id
     AND (s.lifetime_spend, s.order_count, s.last_order_at, s.open_tickets, s.points, s.tier)
         IS DISTINCT FROM (o.spend, o.n, o.last_at, t.n, coalesce(la.balance, 0), la.tier);
END $$;

DROP TRIGGER customer_stats_rfm ON customer_stats;
DROP FUNCTION customer_stats_rfm();
DROP FUNCTION segment_rfm_of(timestamptz, integer, numeric, timestamptz[], integer[], numeric[]);
DROP FUNCTION segment_rfm_name(integer, integer);
ALTER TABLE customer_stats DROP COLUMN first_order_at, DROP COLUMN rfm;
