-- A new customer costs the database less, same rows and same change_log data (docs/performance.md,
-- "importcpu"). Profiling one 5,000-row import batch into 100,000 customers found these costs on
-- every new customer that buy nothing:
--
-- 1. customer_stats_rfm (0039), a plpgsql call on every customer_stats row written, about 80 µs a
--    customer_stats row: the empty row each new customer gets (customer_stats_for_new_customers)
--    can only have no RFM segment (segment_rfm_of is NULL without orders or a last order). The
--    trigger now runs only where its answer can differ from what the row already holds: a row
--    with orders and a last order, or one that carries an RFM segment. For every other row it
--    would have set rfm to NULL, which rfm already is.
DROP TRIGGER customer_stats_rfm ON customer_stats;
CREATE TRIGGER customer_stats_rfm BEFORE INSERT OR UPDATE ON customer_stats
  FOR EACH ROW WHEN (new.rfm IS NOT NULL OR (new.order_count <> 0 AND new.last_order_at IS NOT NULL))
  EXECUTE FUNCTION customer_stats_rfm();

-- 2. capture_inserted_rows (0032) built each change_log row as to_jsonb(whole row) - 'search':
--    the customer's tsvector was turned into JSON text only to be thrown away, and the id, the
--    customer and the version were then read back out of the JSON. The row's columns but 'search'
--    are now listed from the catalog (once a statement, so a column added later is captured as
--    before) and only they become JSON; id, customer and version are read from the row. The data
--    is the same JSON, key for key.
CREATE OR REPLACE FUNCTION capture_inserted_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  cols text;
  has_version boolean;
BEGIN
  IF current_setting('pulse.capture', true) = 'off' THEN
    IF public.capture_is_paused() THEN
      RETURN NULL;
    END IF;
  END IF;
  SELECT string_agg(format('n.%1$I AS %1$I', a.attname), ', ' ORDER BY a.attnum),
         bool_or(a.attname = 'version')
    INTO cols, has_version
    FROM pg_catalog.pg_attribute a
   WHERE a.attrelid = TG_RELID AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> 'search';
  -- As capture_change() for an insert: a customer's own id, else the row's customer_id.
  EXECUTE format(
    'INSERT INTO public.change_log (topic, op, entity_id, customer_id, version, data)
     SELECT $1, ''insert'', n.id, n.%I, %s, to_jsonb(r)
       FROM new_rows n CROSS JOIN LATERAL (SELECT %s) r
      ORDER BY n.id',
    CASE WHEN TG_TABLE_NAME = 'customers' THEN 'id' ELSE 'customer_id' END,
    CASE WHEN has_version THEN 'n.version' ELSE 'NULL::integer' END,
    cols)
  USING TG_ARGV[0];
  RETURN NULL;
END $$;

-- 3. phone_e164_fallback (0030), called for every imported row with a phone, was a SQL function
--    whose body reads FROM a subquery: the planner cannot inline such a body, so each call ran
--    through the SQL-function executor (about 25 µs here, against about 5 µs for its regexp). As
--    plpgsql it computes the very same CASE over the same digits, a simple expression a call.
CREATE OR REPLACE FUNCTION phone_e164_fallback(phone text, country_code text) RETURNS text
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  d text := regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g');
BEGIN
  RETURN CASE
           WHEN length(d) < 6 THEN NULL
           WHEN btrim(coalesce(phone, '')) LIKE '+%' THEN '+' || d
           WHEN country_code <> '1' AND d LIKE '00%' THEN '+' || substr(d, 3)
           WHEN country_code = '1' AND d LIKE '011%' THEN '+' || substr(d, 4)
           WHEN country_code = '1' AND length(d) = 11 AND d LIKE '1%' THEN '+' || d
           ELSE '+' || country_code || regexp_replace(d, '^0', '')
         END;
END $$;

-- 4. Two functions that two of customers' indexes compute for every new customer were SQL bodies
--    reading FROM subqueries, so not inlined either (as customer_country was before 0040):
--    normalize_email (customers_email_norm_idx) now reads the same parts without a subquery, and
--    customer_postcodes (customers_postcodes_idx) answers an empty address list ('[]', which every
--    imported customer has) directly and hands any other value to the old body, renamed. Each
--    gives what it gave for every value, so the indexes built from the old bodies stay valid, and
--    queries written with the function still match them (both sides are inlined alike).
CREATE OR REPLACE FUNCTION normalize_email(email text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
           WHEN split_part(split_part(lower(btrim(email)), '@', 1), '+', 1) = '' THEN lower(btrim(email))
           WHEN split_part(lower(btrim(email)), '@', 2) IN ('gmail.com', 'googlemail.com')
             THEN replace(split_part(split_part(lower(btrim(email)), '@', 1), '+', 1), '.', '') || '@gmail.com'
           ELSE split_part(split_part(lower(btrim(email)), '@', 1), '+', 1) || '@' || split_part(lower(btrim(email)), '@', 2)
         END
$$;

CREATE FUNCTION customer_postcodes_scan(addresses jsonb) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT p ORDER BY p), '{}')
    FROM (SELECT upper(regexp_replace(coalesce(a ->> 'postal_code', a ->> 'postcode', a ->> 'zip'), '\s', '', 'g')) AS p
            FROM jsonb_array_elements(CASE WHEN jsonb_typeof(addresses) = 'array' THEN addresses ELSE '[]' END) AS a
           WHERE jsonb_typeof(a) = 'object') AS t
   WHERE p <> ''
$$;

CREATE OR REPLACE FUNCTION customer_postcodes(addresses jsonb) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN addresses = '[]'::jsonb THEN '{}'::text[] ELSE public.customer_postcodes_scan(addresses) END
$$;

-- 5. customers_list_email_idx (lower(email), id), from 0014, repeats customers_email_key
--    (lower(email)), which is unique: no two rows share a lower(email), so the id after it orders
--    nothing. The list sorted by email reads the unique index, and the incremental sort on id it
--    adds has groups of one row (EXPLAIN ANALYZE: a page of 51 in under 1 ms, the cursor's bound as
--    the index condition, either direction). Every insert kept both.
DROP INDEX customers_list_email_idx;
