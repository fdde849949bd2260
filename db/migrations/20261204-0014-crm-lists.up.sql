-- The CRM's tables (customers, orders, products): what each row shows beyond its own columns is
-- kept by the database in summary tables, so that every column sorts and filters through an
-- index at a million customers and five million orders; trigram indexes for forgiving search;
-- saved views.
--
-- Why summary tables, not a view with lateral joins: a list sorted or filtered by lifetime spend,
-- order count, last order or open tickets must read the first 50 rows of an index, and an
-- aggregate computed per row cannot be indexed (EXPLAIN ANALYZE at 300k customers / 1.5M orders
-- in docs/performance.md: the lateral view sorts every customer, ~2 s; the summary table, < 5 ms).
-- They are not on the live path: nothing captures them, the lists learn of a change from the
-- order, ticket, loyalty or product change that caused it.
--
-- Concurrency: each refresh locks the summary rows it rewrites (ordered, so two writers never
-- deadlock on them) and then recomputes from committed data, in a new statement, so two
-- transactions adding orders for the same customer both count.

-- Helpers -------------------------------------------------------------------------------------

-- The country of a customer: the default address's, else the first address's.
CREATE FUNCTION customer_country(addresses jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(
    (SELECT a ->> 'country' FROM jsonb_array_elements(addresses) a WHERE (a ->> 'default')::boolean LIMIT 1),
    addresses -> 0 ->> 'country')
$$;

-- Tiers in order, 0 for no loyalty account: a list sorts by this.
CREATE FUNCTION loyalty_tier_rank(tier loyalty_tier) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE tier WHEN 'bronze' THEN 1 WHEN 'silver' THEN 2 WHEN 'gold' THEN 3 WHEN 'platinum' THEN 4 ELSE 0 END::smallint
$$;

-- When the summaries are recomputed ---------------------------------------------------------------
-- At commit, not at each statement: a summary row is locked only for the moment its transaction
-- commits, so a transaction left open (an import, a psql session, a slow client) never holds back
-- other writers of the same customer, order or product. Statement triggers note what changed here
-- (one row per entity per transaction); a deferred trigger recomputes them all when the first
-- noted row's trigger fires at commit, each recomputation in id order (no deadlock).
CREATE UNLOGGED TABLE stats_dirty (
  txid  bigint NOT NULL DEFAULT txid_current(),
  kind  text NOT NULL CHECK (kind IN ('customer', 'order', 'product')),
  id    integer NOT NULL,
  PRIMARY KEY (txid, kind, id)
);

CREATE FUNCTION stats_mark_dirty(kind text, ids integer[]) RETURNS void LANGUAGE sql AS $$
  INSERT INTO public.stats_dirty (kind, id) SELECT kind, unnest(ids) ON CONFLICT DO NOTHING;
$$;

-- Customers -----------------------------------------------------------------------------------

CREATE TABLE customer_stats (
  customer_id     integer PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
  -- Orders neither cancelled nor refunded.
  lifetime_spend  numeric(14, 2) NOT NULL DEFAULT 0,
  order_count     integer NOT NULL DEFAULT 0,
  last_order_at   timestamptz,
  -- Tickets new, open or pending.
  open_tickets    integer NOT NULL DEFAULT 0,
  points          integer NOT NULL DEFAULT 0,
  tier            loyalty_tier
);

CREATE FUNCTION refresh_customer_stats(ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.customer_stats (customer_id)
  SELECT c.id FROM public.customers c WHERE c.id = ANY (ids)
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

CREATE FUNCTION customer_stats_from_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids integer[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(DISTINCT customer_id) INTO ids FROM new_rows;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(DISTINCT customer_id) INTO ids FROM old_rows;
  ELSE
    SELECT array_agg(DISTINCT id) INTO ids FROM (
      SELECT customer_id AS id FROM new_rows UNION SELECT customer_id FROM old_rows) x;
  END IF;
  IF ids IS NOT NULL THEN
    PERFORM public.stats_mark_dirty('customer', ids);
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION customer_stats_for_new_customers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.customer_stats (customer_id) SELECT id FROM new_rows ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

CREATE TRIGGER customers_stats_insert AFTER INSERT ON customers
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_stats_for_new_customers();

CREATE TRIGGER orders_customer_stats_insert AFTER INSERT ON orders
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_stats_from_rows();
CREATE TRIGGER orders_customer_stats_update AFTER UPDATE ON orders
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_stats_from_rows();
CREATE TRIGGER orders_customer_stats_delete AFTER DELETE ON orders
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_stats_from_rows();
CREATE TRIGGER tickets_customer_stats_insert AFTER INSERT ON tickets
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_stats_from_rows();
CREATE TRIGGER tickets_customer_stats_update AFTER UPDATE ON tickets
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_stats_from_rows();
CREATE TRIGGER tickets_customer_stats_delete AFTER DELETE ON tickets
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_stats_from_rows();
CREATE TRIGGER loyalty_accounts_customer_stats_insert AFTER INSERT ON loyalty_accounts
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_stats_from_rows();
CREATE TRIGGER loyalty_accounts_customer_stats_update AFTER UPDATE ON loyalty_accounts
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_stats_from_rows();

INSERT INTO customer_stats (customer_id, lifetime_spend, order_count, last_order_at, open_tickets, points, tier)
SELECT c.id, coalesce(o.spend, 0), coalesce(o.n, 0), o.last_at, coalesce(t.n, 0), coalesce(la.balance, 0), la.tier
  FROM customers c
  LEFT JOIN (SELECT customer_id,
                    sum(total) FILTER (WHERE status NOT IN ('cancelled', 'refunded')) AS spend,
                    count(*)::integer AS n, max(order_date) AS last_at
               FROM orders GROUP BY customer_id) o ON o.customer_id = c.id
  LEFT JOIN (SELECT customer_id, count(*)::integer AS n FROM tickets
              WHERE status IN ('new', 'open', 'pending') GROUP BY customer_id) t ON t.customer_id = c.id
  LEFT JOIN loyalty_accounts la ON la.customer_id = c.id;

-- Every sortable column: (sort expression, id), the expression exactly as the list compiles it.
CREATE INDEX customers_list_name_idx ON customers (lower(first_name || ' ' || last_name), id);
CREATE INDEX customers_list_email_idx ON customers (lower(email), id);
CREATE INDEX customers_list_phone_idx ON customers (coalesce(phone, ''), id);
CREATE INDEX customers_list_country_idx ON customers (coalesce(customer_country(addresses), ''), id);
CREATE INDEX customers_list_consent_idx ON customers (marketing_consent, id);
CREATE INDEX customers_list_created_idx ON customers (created_at, id);
CREATE INDEX customer_stats_spend_idx ON customer_stats (lifetime_spend, customer_id);
CREATE INDEX customer_stats_orders_idx ON customer_stats (order_count, customer_id);
CREATE INDEX customer_stats_last_order_idx ON customer_stats (coalesce(last_order_at, '-infinity'), customer_id);
CREATE INDEX customer_stats_open_tickets_idx ON customer_stats ((open_tickets > 0), customer_id);
CREATE INDEX customer_stats_points_idx ON customer_stats (points, customer_id);
CREATE INDEX customer_stats_tier_idx ON customer_stats (loyalty_tier_rank(tier), customer_id);
-- Filters: a tier (few customers are gold or platinum) and an open ticket (few have one) are
-- found here rather than by walking the sort's index past everyone else.
CREATE INDEX customer_stats_tier_filter_idx ON customer_stats (tier);
CREATE INDEX customer_stats_open_ticket_filter_idx ON customer_stats (customer_id) WHERE open_tickets > 0;
-- Search: trigrams of the name, the email and the phone's digits.
CREATE INDEX customers_name_trgm_idx ON customers USING gin ((first_name || ' ' || last_name) gin_trgm_ops);
CREATE INDEX customers_email_trgm_idx ON customers USING gin (email gin_trgm_ops);
CREATE INDEX customers_phone_trgm_idx ON customers USING gin (regexp_replace(coalesce(phone, ''), '\D', '', 'g') gin_trgm_ops);

-- Orders --------------------------------------------------------------------------------------

CREATE TABLE order_stats (
  order_id      integer PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
  -- Units over all items.
  item_count    integer NOT NULL DEFAULT 0,
  ticket_count  integer NOT NULL DEFAULT 0
);

CREATE FUNCTION refresh_order_stats(ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.order_stats (order_id)
  SELECT o.id FROM public.orders o WHERE o.id = ANY (ids)
  ON CONFLICT (order_id) DO NOTHING;
  PERFORM 1 FROM public.order_stats WHERE order_id = ANY (ids) ORDER BY order_id FOR UPDATE;
  UPDATE public.order_stats s
     SET item_count = i.n, ticket_count = t.n
    FROM unnest(ids) AS u (id)
    CROSS JOIN LATERAL (SELECT coalesce(sum(quantity), 0)::integer AS n FROM public.order_items WHERE order_id = u.id) i
    CROSS JOIN LATERAL (SELECT count(*)::integer AS n FROM public.tickets WHERE order_id = u.id) t
   WHERE s.order_id = u.id AND (s.item_count, s.ticket_count) IS DISTINCT FROM (i.n, t.n);
END $$;

CREATE FUNCTION order_stats_from_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids integer[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(DISTINCT order_id) INTO ids FROM new_rows WHERE order_id IS NOT NULL;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(DISTINCT order_id) INTO ids FROM old_rows WHERE order_id IS NOT NULL;
  ELSE
    SELECT array_agg(DISTINCT id) INTO ids FROM (
      SELECT order_id AS id FROM new_rows UNION SELECT order_id FROM old_rows) x WHERE id IS NOT NULL;
  END IF;
  IF ids IS NOT NULL THEN
    PERFORM public.stats_mark_dirty('order', ids);
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION order_stats_for_new_orders() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.order_stats (order_id) SELECT id FROM new_rows ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

CREATE TRIGGER orders_stats_insert AFTER INSERT ON orders
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION order_stats_for_new_orders();
CREATE TRIGGER order_items_order_stats_insert AFTER INSERT ON order_items
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION order_stats_from_rows();
CREATE TRIGGER order_items_order_stats_update AFTER UPDATE ON order_items
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION order_stats_from_rows();
CREATE TRIGGER order_items_order_stats_delete AFTER DELETE ON order_items
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION order_stats_from_rows();
CREATE TRIGGER tickets_order_stats_insert AFTER INSERT ON tickets
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION order_stats_from_rows();
CREATE TRIGGER tickets_order_stats_update AFTER UPDATE ON tickets
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION order_stats_from_rows();
CREATE TRIGGER tickets_order_stats_delete AFTER DELETE ON tickets
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION order_stats_from_rows();

INSERT INTO order_stats (order_id, item_count, ticket_count)
SELECT o.id, coalesce(i.n, 0), coalesce(t.n, 0)
  FROM orders o
  LEFT JOIN (SELECT order_id, sum(quantity)::integer AS n FROM order_items GROUP BY order_id) i ON i.order_id = o.id
  LEFT JOIN (SELECT order_id, count(*)::integer AS n FROM tickets WHERE order_id IS NOT NULL GROUP BY order_id) t
         ON t.order_id = o.id;

CREATE INDEX orders_list_date_idx ON orders (order_date, id);
CREATE INDEX orders_list_total_idx ON orders (total, id);
CREATE INDEX orders_list_status_idx ON orders (status, id);
CREATE INDEX orders_list_channel_idx ON orders (channel, id);
CREATE INDEX orders_list_external_idx ON orders (coalesce(external_id, ''), id);
CREATE INDEX orders_external_trgm_idx ON orders USING gin (external_id gin_trgm_ops);
CREATE INDEX order_stats_items_idx ON order_stats (item_count, order_id);
CREATE INDEX order_stats_tickets_idx ON order_stats ((ticket_count > 0), order_id);
CREATE INDEX order_stats_ticket_filter_idx ON order_stats (order_id) WHERE ticket_count > 0;

-- Products ------------------------------------------------------------------------------------

CREATE TABLE product_stats (
  product_id    integer PRIMARY KEY REFERENCES products (id) ON DELETE CASCADE,
  rating_avg    numeric(3, 2),
  review_count  integer NOT NULL DEFAULT 0
);

CREATE FUNCTION refresh_product_stats(ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.product_stats (product_id)
  SELECT p.id FROM public.products p WHERE p.id = ANY (ids)
  ON CONFLICT (product_id) DO NOTHING;
  PERFORM 1 FROM public.product_stats WHERE product_id = ANY (ids) ORDER BY product_id FOR UPDATE;
  UPDATE public.product_stats s
     SET rating_avg = r.avg, review_count = r.n
    FROM unnest(ids) AS u (id)
    CROSS JOIN LATERAL (SELECT round(avg(rating), 2) AS avg, count(*)::integer AS n
                          FROM public.reviews WHERE product_id = u.id) r
   WHERE s.product_id = u.id AND (s.rating_avg, s.review_count) IS DISTINCT FROM (r.avg, r.n);
END $$;

CREATE FUNCTION product_stats_from_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids integer[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(DISTINCT product_id) INTO ids FROM new_rows;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(DISTINCT product_id) INTO ids FROM old_rows;
  ELSE
    SELECT array_agg(DISTINCT id) INTO ids FROM (
      SELECT product_id AS id FROM new_rows UNION SELECT product_id FROM old_rows) x;
  END IF;
  IF ids IS NOT NULL THEN
    PERFORM public.stats_mark_dirty('product', ids);
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION product_stats_for_new_products() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.product_stats (product_id) SELECT id FROM new_rows ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

CREATE TRIGGER products_stats_insert AFTER INSERT ON products
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION product_stats_for_new_products();
CREATE TRIGGER reviews_product_stats_insert AFTER INSERT ON reviews
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION product_stats_from_rows();
CREATE TRIGGER reviews_product_stats_update AFTER UPDATE ON reviews
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION product_stats_from_rows();
CREATE TRIGGER reviews_product_stats_delete AFTER DELETE ON reviews
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION product_stats_from_rows();

INSERT INTO product_stats (product_id, rating_avg, review_count)
SELECT p.id, r.avg, coalesce(r.n, 0)
  FROM products p
  LEFT JOIN (SELECT product_id, round(avg(rating), 2) AS avg, count(*)::integer AS n
               FROM reviews GROUP BY product_id) r ON r.product_id = p.id;

CREATE INDEX products_list_name_idx ON products (lower(name), id);
CREATE INDEX products_list_price_idx ON products (price, id);
CREATE INDEX products_list_stock_idx ON products (stock, id);
CREATE INDEX products_sku_trgm_idx ON products USING gin (sku gin_trgm_ops);
CREATE INDEX products_name_trgm_idx ON products USING gin (name gin_trgm_ops);

-- Saved views ---------------------------------------------------------------------------------

CREATE TABLE saved_views (
  id          integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  owner_id    integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- The owner's team when the view was shared with it.
  team_id     integer REFERENCES teams (id) ON DELETE SET NULL,
  entity      text NOT NULL CHECK (entity IN ('customers', 'orders', 'products')),
  name        text NOT NULL CHECK (name ~ '\S' AND length(name) <= 80),
  state       jsonb NOT NULL CHECK (jsonb_typeof(state) = 'object'),
  visibility  text NOT NULL DEFAULT 'personal' CHECK (visibility IN ('personal', 'team', 'everyone')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX saved_views_owner_idx ON saved_views (owner_id, entity);
CREATE INDEX saved_views_team_idx ON saved_views (team_id, entity) WHERE visibility = 'team';
CREATE TRIGGER saved_views_touch BEFORE UPDATE ON saved_views FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- At commit: recompute everything this transaction noted (later firings find nothing left).
CREATE FUNCTION stats_flush() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  customers integer[];
  orders integer[];
  products integer[];
BEGIN
  WITH noted AS (DELETE FROM public.stats_dirty WHERE txid = txid_current() RETURNING kind, id)
  SELECT array_agg(id ORDER BY id) FILTER (WHERE kind = 'customer'),
         array_agg(id ORDER BY id) FILTER (WHERE kind = 'order'),
         array_agg(id ORDER BY id) FILTER (WHERE kind = 'product')
    INTO customers, orders, products FROM noted;
  IF customers IS NOT NULL THEN PERFORM public.refresh_customer_stats(customers); END IF;
  IF orders IS NOT NULL THEN PERFORM public.refresh_order_stats(orders); END IF;
  IF products IS NOT NULL THEN PERFORM public.refresh_product_stats(products); END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER stats_dirty_flush AFTER INSERT ON stats_dirty
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION stats_flush();
