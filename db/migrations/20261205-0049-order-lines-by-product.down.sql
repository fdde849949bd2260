CREATE INDEX order_items_product_idx ON order_items (product_id);
DROP INDEX order_items_product_lines_idx;
