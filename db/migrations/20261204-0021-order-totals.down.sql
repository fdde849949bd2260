DROP FUNCTION compact_order_totals();
DROP TRIGGER orders_totals_truncate ON orders;
DROP FUNCTION order_totals_truncate();
DROP TRIGGER orders_totals_delete ON orders;
DROP TRIGGER orders_totals_update ON orders;
DROP TRIGGER orders_totals_insert ON orders;
DROP FUNCTION order_totals_from_rows();
DROP TABLE order_totals;
