-- The order lines of a product with what the loyalty impact preview needs of them (issue 12's
-- speed target, docs/performance.md "Loyalty, session 11"). A draft that multiplies a category
-- reads every line of its products in the last 12 months: at 5M orders, 1.79M lines of 104
-- products took 2.5 s to fetch from the table; from the index alone, 0.7 s. It replaces the
-- plain index on product_id, which every other reader of a product's lines (a product's sales,
-- "bought" segment rules, the foreign key's checks) uses the same way. The cost is its size:
-- 351 MB against 60 MB at 9M lines (the plain index is deduplicated).
CREATE INDEX order_items_product_lines_idx ON order_items (product_id) INCLUDE (order_id, quantity, unit_price);
DROP INDEX order_items_product_idx;
