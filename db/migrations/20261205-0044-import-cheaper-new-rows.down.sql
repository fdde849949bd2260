-- Undoes 0044: customers_list_email_idx again, normalize_email and customer_postcodes as 0017
-- wrote them, phone_e164_fallback as 0030 wrote it, capture_inserted_rows as 0032 wrote it,
-- customer_stats_rfm on every row again.
CREATE INDEX customers_list_email_idx ON customers (lower(email), id);

CREATE OR REPLACE FUNCTION customer_postcodes(addresses jsonb) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT p ORDER BY p), '{}')
    FROM (SELECT upper(regexp_replace(coalesce(a ->> 'postal_code', a ->> 'postcode', a ->> 'zip'), '\s', '', 'g')) AS p
            FROM jsonb_array_elements(CASE WHEN jsonb_typeof(addresses) = 'array' THEN addresses ELSE '[]' END) AS a
           WHERE jsonb_typeof(a) = 'object') AS t
   WHERE p <> ''
$$;
DROP FUNCTION customer_postcodes_scan(jsonb);

CREATE OR REPLACE FUNCTION normalize_email(email text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
           WHEN local = '' THEN e
           WHEN domain IN ('gmail.com', 'googlemail.com') THEN replace(local, '.', '') || '@gmail.com'
           ELSE local || '@' || domain
         END
    FROM (SELECT e, split_part(split_part(e, '@', 1), '+', 1) AS local, split_part(e, '@', 2) AS domain
            FROM (SELECT lower(btrim(email)) AS e) AS t) AS parts
$$;

CREATE OR REPLACE FUNCTION phone_e164_fallback(phone text, country_code text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
           WHEN length(d) < 6 THEN NULL
           WHEN plus THEN '+' || d
           WHEN country_code <> '1' AND d LIKE '00%' THEN '+' || substr(d, 3)
           WHEN country_code = '1' AND d LIKE '011%' THEN '+' || substr(d, 4)
           WHEN country_code = '1' AND length(d) = 11 AND d LIKE '1%' THEN '+' || d
           ELSE '+' || country_code || regexp_replace(d, '^0', '')
         END
    FROM (SELECT regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g') AS d,
                 btrim(coalesce(phone, '')) LIKE '+%' AS plus) AS t
$$;

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
