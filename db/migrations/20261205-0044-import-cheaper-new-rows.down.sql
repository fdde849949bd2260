-- Undoes 0044: capture_inserted_rows as 0032 wrote it, customer_stats_rfm on every row again.
CREATE OR REPLACE FUNCTION capture_inserted_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('pulse.capture', true) = 'off' THEN
    IF public.capture_is_paused() THEN
      RETURN NULL;
    END IF;
  END IF;
  -- As capture_change() for an insert: a customer's own id, else the row's customer_id.
  INSERT INTO public.change_log (topic, op, entity_id, customer_id, version, data)
  SELECT TG_ARGV[0], 'insert', (r ->> 'id')::bigint,
         (CASE WHEN TG_TABLE_NAME = 'customers' THEN r ->> 'id' ELSE r ->> 'customer_id' END)::integer,
         (r ->> 'version')::integer, r
    FROM (SELECT to_jsonb(n) - 'search' AS r FROM new_rows n) x
   ORDER BY (r ->> 'id')::bigint;
  RETURN NULL;
END $$;

DROP TRIGGER customer_stats_rfm ON customer_stats;
CREATE TRIGGER customer_stats_rfm BEFORE INSERT OR UPDATE ON customer_stats
  FOR EACH ROW EXECUTE FUNCTION customer_stats_rfm();
