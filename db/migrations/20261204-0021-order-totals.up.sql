-- The orders table's footer without a filter (count, sum and average of every order) from maintained
-- totals instead of a scan of every order (1.5 s at 5M orders). Each statement that changes orders
-- appends one delta row, in its own transaction, so concurrent writers never wait on a shared row;
-- compact_order_totals() folds the deltas into one row now and then. Reading sums the rows.
CREATE TABLE order_totals (
  id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  orders  bigint NOT NULL,
  total   numeric NOT NULL
);

CREATE FUNCTION order_totals_from_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO public.order_totals (orders, total)
    SELECT count(*), coalesce(sum(total), 0) FROM new_rows HAVING count(*) > 0;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO public.order_totals (orders, total)
    SELECT -count(*), -coalesce(sum(total), 0) FROM old_rows HAVING count(*) > 0;
  ELSE
    INSERT INTO public.order_totals (orders, total)
    SELECT 0, d FROM (SELECT (SELECT coalesce(sum(total), 0) FROM new_rows) - (SELECT coalesce(sum(total), 0) FROM old_rows) AS d) x
     WHERE d <> 0;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER orders_totals_insert AFTER INSERT ON orders
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION order_totals_from_rows();
CREATE TRIGGER orders_totals_update AFTER UPDATE ON orders
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION order_totals_from_rows();
CREATE TRIGGER orders_totals_delete AFTER DELETE ON orders
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION order_totals_from_rows();
-- TRUNCATE has no transition table: it empties the totals with the orders.
CREATE FUNCTION order_totals_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM public.order_totals;
  RETURN NULL;
END $$;
CREATE TRIGGER orders_totals_truncate AFTER TRUNCATE ON orders
  FOR EACH STATEMENT EXECUTE FUNCTION order_totals_truncate();

-- Folds the committed deltas into one row; deltas of transactions still open stay as they are.
CREATE FUNCTION compact_order_totals() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7210330643);
  WITH gone AS (DELETE FROM public.order_totals RETURNING orders, total)
  INSERT INTO public.order_totals (orders, total)
  SELECT sum(orders), sum(total) FROM gone HAVING count(*) > 0;
END $$;

INSERT INTO order_totals (orders, total) SELECT count(*), coalesce(sum(total), 0) FROM orders;
