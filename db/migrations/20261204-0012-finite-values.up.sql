-- Values JavaScript cannot present: NUMERIC 'NaN' passes `>= 0` (Postgres sorts NaN above every
-- number) and timestamps may be ±infinity. Pulse's screens and reports have no honest way to show
-- either, so the database refuses them, whoever writes (an import, a webhook, psql).
ALTER TABLE products ADD CONSTRAINT products_price_finite CHECK (price <> 'NaN');
ALTER TABLE orders ADD CONSTRAINT orders_total_finite CHECK (total <> 'NaN');
ALTER TABLE orders ADD CONSTRAINT orders_order_date_finite CHECK (isfinite(order_date));
ALTER TABLE order_items ADD CONSTRAINT order_items_unit_price_finite CHECK (unit_price <> 'NaN');
ALTER TABLE tickets ADD CONSTRAINT tickets_due_finite
  CHECK ((first_response_due_at IS NULL OR isfinite(first_response_due_at)) AND (resolution_due_at IS NULL OR isfinite(resolution_due_at)));
