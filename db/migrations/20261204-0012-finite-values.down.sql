ALTER TABLE tickets DROP CONSTRAINT tickets_due_finite;
ALTER TABLE order_items DROP CONSTRAINT order_items_unit_price_finite;
ALTER TABLE orders DROP CONSTRAINT orders_order_date_finite;
ALTER TABLE orders DROP CONSTRAINT orders_total_finite;
ALTER TABLE products DROP CONSTRAINT products_price_finite;
