-- Segments at 1M customers (issue 12's speed targets, docs/performance.md "Segments").
--
-- Two facts a segment asks about every customer, kept in customer_stats beside the numbers they
-- come from, so a count reads an index instead of computing them for a million rows:
-- - first_order_at: the date of the customer's first order (any status, as the rule "first order
--   within N days" always read it), kept by refresh_customer_stats with the other order figures;
-- - rfm: the RFM segment of segment_rfm() (0028) from the customer's own numbers and the quintile
--   cut-offs, set by a BEFORE trigger whenever the row is written, and rewritten for the customers
--   it changes whenever segment_refresh_rfm_cutoffs() moves the cut-offs.
-- And the membership work at commit: segment_evaluate() evaluates every segment for the touched
-- customers in ONE statement (the segments' conditions side by side) instead of one statement a
-- segment.

ALTER TABLE customer_stats ADD COLUMN first_order_at timestamptz, ADD COLUMN rfm text;

-- RFM from the numbers and the four cut-offs of each measure, as segment_rfm() (each score is 1 +
-- the cut-offs it is above, FM the mean of F and M rounded up), written without a subquery so the
-- planner inlines it: the cut-off refresh evaluates it for every buyer.
CREATE FUNCTION segment_rfm_name(r integer, fm integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
           WHEN r >= 4 AND fm >= 4 THEN 'champions'
           WHEN r >= 3 AND fm >= 3 THEN 'loyal'
           WHEN r >= 4 THEN 'promising'
           WHEN r = 3 THEN 'needs_attention'
           WHEN fm >= 3 THEN 'at_risk'
           ELSE 'hibernating' END
$$;

CREATE FUNCTION segment_rfm_of(last_at timestamptz, orders integer, spend numeric,
                               rec timestamptz[], freq integer[], mon numeric[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
           WHEN orders IS NULL OR orders = 0 OR last_at IS NULL OR rec IS NULL THEN NULL
           ELSE public.segment_rfm_name(
             1 + coalesce((last_at > rec[1])::integer, 0) + coalesce((last_at > rec[2])::integer, 0)
               + coalesce((last_at > rec[3])::integer, 0) + coalesce((last_at > rec[4])::integer, 0),
             (2 + coalesce((orders > freq[1])::integer, 0) + coalesce((orders > freq[2])::integer, 0)
                + coalesce((orders > freq[3])::integer, 0) + coalesce((orders > freq[4])::integer, 0)
                + coalesce((spend > mon[1])::integer, 0) + coalesce((spend > mon[2])::integer, 0)
                + coalesce((spend > mon[3])::integer, 0) + coalesce((spend > mon[4])::integer, 0) + 1) / 2)
         END
$$;

CREATE FUNCTION customer_stats_rfm() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  SELECT public.segment_rfm_of(NEW.last_order_at, NEW.order_count, NEW.lifetime_spend,
                               k.recency, k.frequency, k.monetary)
    INTO NEW.rfm
    FROM (SELECT NULL) one LEFT JOIN public.segment_rfm_cutoffs k ON true;
  RETURN NEW;
END $$;

-- Segments are not re-evaluated at commit for the customers a statement touches while
-- `pulse.segment_quiet` is on: the cut-off refresh rewrites the stored RFM of many customers, and
-- the reconcile that calls it recomputes every segment from SQL right after (the differences are
-- evaluated and announced there, in batches).
CREATE OR REPLACE FUNCTION segment_mark_dirty(ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF ids IS NOT NULL AND coalesce(current_setting('pulse.segment_quiet', true), '') <> 'on'
     AND EXISTS (SELECT 1 FROM public.segments WHERE compiled_where IS NOT NULL) THEN
    INSERT INTO public.segment_dirty (customer_id) SELECT DISTINCT unnest(ids) ON CONFLICT DO NOTHING;
  END IF;
END $$;

CREATE OR REPLACE FUNCTION segment_refresh_rfm_cutoffs() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
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
  -- Only the customers whose segment the new cut-offs change are written.
  PERFORM set_config('pulse.segment_quiet', 'on', true);
  UPDATE public.customer_stats s
     SET rfm = public.segment_rfm_of(s.last_order_at, s.order_count, s.lifetime_spend, k.recency, k.frequency, k.monetary)
    FROM (SELECT NULL) one LEFT JOIN public.segment_rfm_cutoffs k ON true
   WHERE s.rfm IS DISTINCT FROM
         public.segment_rfm_of(s.last_order_at, s.order_count, s.lifetime_spend, k.recency, k.frequency, k.monetary);
  PERFORM set_config('pulse.segment_quiet', 'off', true);
END $$;

-- 0022's refresh, with the first order's date.
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

-- The backfill, set-based. Nobody's membership changes (the new columns hold what the rules
-- computed before), so the segments' dirty marking stays off while it runs.
SET LOCAL work_mem = '256MB';
ALTER TABLE customer_stats DISABLE TRIGGER customer_stats_segment_dirty_update;
UPDATE customer_stats s
   SET first_order_at = o.first_at,
       rfm = segment_rfm_of(s.last_order_at, s.order_count, s.lifetime_spend, k.recency, k.frequency, k.monetary)
  FROM (SELECT customer_id, min(order_date) AS first_at FROM orders GROUP BY customer_id) o
  LEFT JOIN segment_rfm_cutoffs k ON true
 WHERE s.customer_id = o.customer_id;
ALTER TABLE customer_stats ENABLE TRIGGER customer_stats_segment_dirty_update;

CREATE TRIGGER customer_stats_rfm BEFORE INSERT OR UPDATE ON customer_stats
  FOR EACH ROW EXECUTE FUNCTION customer_stats_rfm();

CREATE INDEX customer_stats_rfm_idx ON customer_stats (rfm, customer_id) WHERE rfm IS NOT NULL;
CREATE INDEX customer_stats_first_order_idx ON customer_stats (first_order_at, customer_id)
  WHERE first_order_at IS NOT NULL;

-- Every segment for these customers in one statement: each segment's stored condition reads its
-- values from its own element of one jsonb[] parameter (the compiler writes `$1::jsonb`, the one
-- placeholder it ever writes; here it becomes `($1[k])`, k the segment's place in the list).
CREATE OR REPLACE FUNCTION segment_evaluate(ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  matched text;
  segs integer[];
  params jsonb[];
BEGIN
  SELECT string_agg(format(
           'SELECT %s AS segment_id, c.id FROM public.customers c JOIN public.customer_stats s ON s.customer_id = c.id
             WHERE c.id = ANY ($2) AND (%s)', x.id, replace(x.compiled_where, '$1::jsonb', format('($1[%s])', x.k))),
           E'\nUNION ALL\n' ORDER BY x.k),
         array_agg(x.id ORDER BY x.k), array_agg(x.compiled_params ORDER BY x.k)
    INTO matched, segs, params
    FROM (SELECT id, compiled_where, compiled_params, row_number() OVER (ORDER BY id) AS k
            FROM public.segments WHERE compiled_where IS NOT NULL) x;
  IF segs IS NULL THEN
    RETURN;
  END IF;
  PERFORM 1 FROM public.customer_stats WHERE customer_id = ANY (ids) ORDER BY customer_id FOR UPDATE;
  EXECUTE format(
    'WITH matched AS (%s),
          gone AS (DELETE FROM public.segment_members m
                    WHERE m.segment_id = ANY ($3) AND m.customer_id = ANY ($2)
                      AND NOT EXISTS (SELECT 1 FROM matched WHERE matched.segment_id = m.segment_id
                                                             AND matched.id = m.customer_id))
     INSERT INTO public.segment_members (segment_id, customer_id)
     SELECT segment_id, id FROM matched ORDER BY segment_id, id ON CONFLICT DO NOTHING', matched)
  USING params, ids, segs;
END $$;

-- Conditions compiled by the previous compiler call segment_rfm() per customer: the server
-- recompiles them at start (compiled_with below its version).
