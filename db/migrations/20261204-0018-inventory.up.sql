-- Inventory: stock moves only through stock movements, an append-only table, so a product's stock
-- is always the sum of its movements. Orders move stock themselves (a sale when paid, a return
-- when refunded or cancelled after that), exactly once per item, whoever changes the order.
-- See docs/decisions.md, "Stock is the sum of its movements".

CREATE TYPE stock_movement_kind AS ENUM ('receive', 'sell', 'return', 'adjust');

-- Below this many units a product is "low" (0 means never low, only out).
ALTER TABLE products ADD COLUMN low_stock_threshold integer NOT NULL DEFAULT 5
  CHECK (low_stock_threshold BETWEEN 0 AND 1000000);

-- The stock state both the tables' filter and the product page show; the browser's copy is
-- src/lib/shared/rules/stock.ts. Immutable, so it can back an expression index.
CREATE FUNCTION product_stock_state(stock integer, low_stock_threshold integer) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN stock <= 0 THEN 'out' WHEN stock <= low_stock_threshold THEN 'low' ELSE 'in_stock' END
$$;

CREATE TABLE stock_movements (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  product_id     integer NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
  kind           stock_movement_kind NOT NULL,
  quantity       integer NOT NULL,
  reason         text NOT NULL CHECK (reason ~ '\S' AND length(reason) <= 200),
  -- What an order moved names the order and the item. Not foreign keys: the movements are the
  -- stock's history and outlive an order deleted by hand (deleting an order is not a refund).
  order_id       integer,
  order_item_id  integer,
  actor_user_id  integer REFERENCES users (id) ON DELETE SET NULL,
  at             timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT stock_movements_sign CHECK (
    CASE kind WHEN 'receive' THEN quantity > 0 WHEN 'return' THEN quantity > 0
              WHEN 'sell' THEN quantity < 0 ELSE quantity <> 0 END
  ),
  CONSTRAINT stock_movements_order_item CHECK ((order_id IS NULL) = (order_item_id IS NULL)),
  -- Sales and returns come from orders; receipts and adjustments from people (or the opening).
  CONSTRAINT stock_movements_order_kinds CHECK ((kind IN ('sell', 'return')) = (order_id IS NOT NULL))
);
-- An order's item is sold once and returned once, however often its status is written.
CREATE UNIQUE INDEX stock_movements_item_once ON stock_movements (order_item_id, kind) WHERE order_item_id IS NOT NULL;
CREATE INDEX stock_movements_product_idx ON stock_movements (product_id, id DESC);
CREATE INDEX stock_movements_order_idx ON stock_movements (order_id) WHERE order_id IS NOT NULL;
-- The product page's 90-day sales series.
CREATE INDEX stock_movements_sales_idx ON stock_movements (product_id, at) WHERE kind IN ('sell', 'return');

-- The opening: every product's current stock becomes its first movement, so the sum holds from
-- the start (written before the triggers below exist, so it does not move the stock again).
INSERT INTO stock_movements (product_id, kind, quantity, reason, at)
SELECT id, 'adjust', stock, 'Opening stock', created_at FROM products WHERE stock <> 0 ORDER BY id;

CREATE TRIGGER stock_movements_append_only BEFORE UPDATE OR DELETE ON stock_movements
  FOR EACH ROW EXECUTE FUNCTION forbid_changes();
CREATE TRIGGER stock_movements_no_truncate BEFORE TRUNCATE ON stock_movements
  FOR EACH STATEMENT EXECUTE FUNCTION forbid_changes();

-- A movement moves its product's stock. The product row is locked first (NO KEY UPDATE: the
-- insert's foreign-key check holds KEY SHARE on it), so concurrent movements of one product queue
-- and none is lost; a sale the stock cannot cover is refused (no backorders, see decisions.md).
-- The opening movement a new product writes (below) records a stock the row already has.
CREATE FUNCTION stock_apply_movement() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  current integer;
BEGIN
  IF pg_trigger_depth() >= 2 AND NEW.kind = 'adjust'
     AND current_setting('pulse.stock_opening', true) = NEW.product_id::text THEN
    RETURN NULL;
  END IF;
  SELECT p.stock INTO current FROM public.products p WHERE p.id = NEW.product_id FOR NO KEY UPDATE;
  IF current + NEW.quantity < 0 THEN
    RAISE EXCEPTION 'not enough stock of product %: % left, % asked', NEW.product_id, current, -NEW.quantity
      USING ERRCODE = 'check_violation', CONSTRAINT = 'products_stock_check';
  END IF;
  PERFORM set_config('pulse.stock_apply', 'on', true);
  UPDATE public.products SET stock = stock + NEW.quantity WHERE id = NEW.product_id;
  PERFORM set_config('pulse.stock_apply', 'off', true);
  RETURN NULL;
END $$;
CREATE TRIGGER stock_movements_apply AFTER INSERT ON stock_movements
  FOR EACH ROW EXECUTE FUNCTION stock_apply_movement();
CREATE TRIGGER stock_movements_capture AFTER INSERT ON stock_movements
  FOR EACH ROW EXECUTE FUNCTION capture_change('stock_movement');

-- Only the movement trigger changes products.stock: a session could set pulse.stock_apply itself,
-- so the guard also asks that the change come from inside a trigger (this guard runs at depth 1
-- when a session updates the product directly, at 2 or more under the movement trigger).
CREATE FUNCTION stock_guard_product() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.stock IS DISTINCT FROM OLD.stock
     AND (pg_trigger_depth() < 2 OR current_setting('pulse.stock_apply', true) IS DISTINCT FROM 'on') THEN
    RAISE EXCEPTION 'stock changes only through stock_movements'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'products_stock_movements_only';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER products_stock_guard BEFORE UPDATE OF stock ON products
  FOR EACH ROW EXECUTE FUNCTION stock_guard_product();

-- A product inserted with stock (an import, the demo seed) records it as its opening movement.
CREATE FUNCTION stock_open_product() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('pulse.stock_opening', NEW.id::text, true);
  INSERT INTO public.stock_movements (product_id, kind, quantity, reason, at)
  VALUES (NEW.id, 'adjust', NEW.stock, 'Opening stock', NEW.created_at);
  PERFORM set_config('pulse.stock_opening', '', true);
  RETURN NULL;
END $$;
CREATE TRIGGER products_opening_stock AFTER INSERT ON products
  FOR EACH ROW WHEN (NEW.stock <> 0) EXECUTE FUNCTION stock_open_product();

-- Orders ----------------------------------------------------------------------------------------

-- The statuses in which an order's goods have left the shelf.
CREATE FUNCTION order_holds_stock(status order_status) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT status IN ('paid', 'fulfilled', 'shipped', 'delivered')
$$;

-- Sells the items of `orders` not sold yet, in product order (so two orders of the same products
-- lock them in the same order and never deadlock). A bulk load under pause_capture() is history
-- (the demo seed's past orders): its orders do not move today's stock.
CREATE FUNCTION stock_sell_items(order_ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.stock_movements (product_id, kind, quantity, reason, order_id, order_item_id)
  SELECT i.product_id, 'sell', -i.quantity, format('Order #%s paid', i.order_id), i.order_id, i.id
    FROM public.order_items i
   WHERE i.order_id = ANY (order_ids)
     AND NOT EXISTS (SELECT 1 FROM public.stock_movements m WHERE m.order_item_id = i.id AND m.kind = 'sell')
   ORDER BY i.product_id, i.id
  ON CONFLICT (order_item_id, kind) WHERE order_item_id IS NOT NULL DO NOTHING;
END $$;

CREATE FUNCTION stock_follow_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('pulse.capture', true) = 'off' AND public.capture_is_paused() THEN
    RETURN NULL;
  END IF;
  -- Only the step onto the shelf's side sells: an order already past payment when inventory began
  -- (or loaded as history) was counted in the opening stock, and moving it on sells nothing.
  IF public.order_holds_stock(NEW.status) AND NOT public.order_holds_stock(OLD.status) THEN
    PERFORM public.stock_sell_items(ARRAY[NEW.id]);
  ELSIF NEW.status IN ('refunded', 'cancelled') THEN
    -- What was sold comes back, once.
    INSERT INTO public.stock_movements (product_id, kind, quantity, reason, order_id, order_item_id)
    SELECT s.product_id, 'return', -s.quantity, format('Order #%s %s', NEW.id, NEW.status), s.order_id, s.order_item_id
      FROM public.stock_movements s
     WHERE s.order_id = NEW.id AND s.kind = 'sell'
       AND NOT EXISTS (SELECT 1 FROM public.stock_movements r WHERE r.order_item_id = s.order_item_id AND r.kind = 'return')
     ORDER BY s.product_id, s.order_item_id
    ON CONFLICT (order_item_id, kind) WHERE order_item_id IS NOT NULL DO NOTHING;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER orders_move_stock AFTER UPDATE OF status ON orders
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION stock_follow_order();

-- Items added to an order that is already paid (an order created paid) are sold as they arrive.
CREATE FUNCTION stock_sell_new_items() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  paid integer[];
BEGIN
  IF current_setting('pulse.capture', true) = 'off' AND public.capture_is_paused() THEN
    RETURN NULL;
  END IF;
  SELECT array_agg(DISTINCT o.id) INTO paid
    FROM public.orders o WHERE o.id IN (SELECT n.order_id FROM new_items n) AND public.order_holds_stock(o.status);
  IF paid IS NOT NULL THEN
    PERFORM public.stock_sell_items(paid);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER order_items_move_stock AFTER INSERT ON order_items
  REFERENCING NEW TABLE AS new_items FOR EACH STATEMENT EXECUTE FUNCTION stock_sell_new_items();

-- Reviews ---------------------------------------------------------------------------------------

-- A product's rating summary and histogram, and its reviews lowest first.
CREATE INDEX reviews_product_rating_idx ON reviews (product_id, rating, created_at DESC);
-- Every review newest first (the reviews screen), and forgiving search (typos) over the text.
CREATE INDEX reviews_created_idx ON reviews (created_at DESC, id DESC);
CREATE INDEX reviews_text_trgm_idx ON reviews USING gin ((title || ' ' || body) gin_trgm_ops);
