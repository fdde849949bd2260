-- The CRM at 1M customers / 5M orders (issue 10, "Speed"; docs/performance.md).

-- Phones in E.164 ----------------------------------------------------------------------------
-- Duplicates and phone search compare phones as E.164 ("+14155550100"), not by their last nine
-- digits (which made "+44 20 7946 0958" a duplicate of any US number ending in the same nine).
-- The application normalises with libphonenumber (server/services/customers/phones.ts) and writes
-- phone_e164 with the phone; rows written without it (psql, imports in SQL) get the SQL fallback
-- below from a trigger, with the default country code the server stores at start-up
-- (DEFAULT_PHONE_REGION). The fallback only strips formatting and applies a country code:
--   "+<digits>"            -> +<digits>
--   "00<digits>"           -> +<digits> (outside NANP), "011<digits>" -> +<digits> (NANP)
--   NANP, 11 digits "1..." -> +<digits>
--   anything else          -> +<country code><digits without one leading 0 (a trunk prefix)>
-- It does not validate lengths or ranges, and keeps Italy's leading 0 wrongly; fewer than six
-- digits is no phone (null).
CREATE TABLE phone_settings (
  singleton             boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  default_country_code  text NOT NULL DEFAULT '1' CHECK (default_country_code ~ '^[1-9][0-9]{0,2}$')
);
INSERT INTO phone_settings DEFAULT VALUES;

CREATE FUNCTION phone_e164_fallback(phone text, country_code text) RETURNS text
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

-- Fills phone_e164 when a writer changed the phone without it (the app always sends both).
CREATE FUNCTION phone_e164_default() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  raw text;
  old_raw text;
BEGIN
  -- Each table's fields in a branch of its own (plpgsql resolves NEW's fields when it runs a line).
  IF TG_TABLE_NAME = 'customers' THEN
    raw := NEW.phone;
    IF TG_OP = 'UPDATE' THEN old_raw := OLD.phone; END IF;
  ELSE
    raw := CASE WHEN NEW.kind = 'phone' THEN NEW.value END;
    IF TG_OP = 'UPDATE' THEN old_raw := CASE WHEN OLD.kind = 'phone' THEN OLD.value END; END IF;
  END IF;
  IF raw IS NULL THEN
    NEW.phone_e164 := NULL;
    RETURN NEW;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    IF raw IS NOT DISTINCT FROM old_raw OR NEW.phone_e164 IS DISTINCT FROM OLD.phone_e164 THEN
      RETURN NEW;
    END IF;
  ELSIF NEW.phone_e164 IS NOT NULL THEN
    RETURN NEW;
  END IF;
  NEW.phone_e164 := public.phone_e164_fallback(raw, (SELECT default_country_code FROM public.phone_settings));
  RETURN NEW;
END $$;

-- Backfilled by the fallback (with '1') through a generated column, which rewrites the table once
-- without firing the row triggers (no change_log rows, no version bumps), then made a plain column.
ALTER TABLE customers ADD COLUMN phone_e164 text GENERATED ALWAYS AS (phone_e164_fallback(phone, '1')) STORED;
ALTER TABLE customers ALTER COLUMN phone_e164 DROP EXPRESSION;
ALTER TABLE customer_contacts ADD COLUMN phone_e164 text
  GENERATED ALWAYS AS (CASE WHEN kind = 'phone' THEN phone_e164_fallback(value, '1') END) STORED;
ALTER TABLE customer_contacts ALTER COLUMN phone_e164 DROP EXPRESSION;

CREATE TRIGGER customers_phone_e164 BEFORE INSERT OR UPDATE OF phone, phone_e164 ON customers
  FOR EACH ROW EXECUTE FUNCTION phone_e164_default();
CREATE TRIGGER customer_contacts_phone_e164 BEFORE INSERT OR UPDATE OF kind, value, phone_e164 ON customer_contacts
  FOR EACH ROW EXECUTE FUNCTION phone_e164_default();

-- Duplicate suggestions look phones up by their E.164 form (btree); search by digits (trigrams).
DROP INDEX customers_phone_norm_idx;
DROP INDEX customer_contacts_phone_norm_idx;
DROP INDEX customers_phone_trgm_idx;
CREATE INDEX customers_phone_e164_idx ON customers (phone_e164) WHERE merged_into IS NULL AND phone_e164 IS NOT NULL;
CREATE INDEX customer_contacts_phone_e164_idx ON customer_contacts (phone_e164) WHERE kind = 'phone';
CREATE INDEX customers_phone_e164_trgm_idx ON customers USING gin (phone_e164 gin_trgm_ops);

-- Orders per day, status and channel -----------------------------------------------------------
-- The orders' footer for filters on the order date, status and channel only: whole UTC days are
-- summed from here, the partial days at either end of a range from the orders. Maintained like
-- order_totals (migration 0021): each statement appends its deltas (no shared row to wait on; a
-- rolled-back statement takes its deltas with it) and compact_order_daily_totals() folds them.
CREATE TABLE order_daily_totals (
  id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  day      date NOT NULL,
  status   order_status NOT NULL,
  channel  sales_channel NOT NULL,
  orders   bigint NOT NULL,
  total    numeric NOT NULL
);
CREATE INDEX order_daily_totals_day_idx ON order_daily_totals (day);

CREATE FUNCTION order_daily_totals_from_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO public.order_daily_totals (day, status, channel, orders, total)
    SELECT (order_date AT TIME ZONE 'UTC')::date, status, channel, count(*), sum(total)
      FROM new_rows GROUP BY 1, 2, 3;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO public.order_daily_totals (day, status, channel, orders, total)
    SELECT (order_date AT TIME ZONE 'UTC')::date, status, channel, -count(*), -sum(total)
      FROM old_rows GROUP BY 1, 2, 3;
  ELSE
    INSERT INTO public.order_daily_totals (day, status, channel, orders, total)
    SELECT day, status, channel, sum(n), sum(t)
      FROM (SELECT (order_date AT TIME ZONE 'UTC')::date AS day, status, channel, 1 AS n, total AS t FROM new_rows
            UNION ALL
            SELECT (order_date AT TIME ZONE 'UTC')::date, status, channel, -1, -total FROM old_rows) d
     GROUP BY 1, 2, 3
    HAVING sum(n) <> 0 OR sum(t) <> 0;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER orders_daily_totals_insert AFTER INSERT ON orders
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION order_daily_totals_from_rows();
CREATE TRIGGER orders_daily_totals_update AFTER UPDATE ON orders
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION order_daily_totals_from_rows();
CREATE TRIGGER orders_daily_totals_delete AFTER DELETE ON orders
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION order_daily_totals_from_rows();
CREATE FUNCTION order_daily_totals_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM public.order_daily_totals;
  RETURN NULL;
END $$;
CREATE TRIGGER orders_daily_totals_truncate AFTER TRUNCATE ON orders
  FOR EACH STATEMENT EXECUTE FUNCTION order_daily_totals_truncate();

-- Folds the committed deltas of each day, status and channel that has several into one row (rows
-- that net to nothing go); deltas of transactions still open stay as they are.
CREATE FUNCTION compact_order_daily_totals() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7210330644);
  WITH several AS (
    SELECT day, status, channel FROM public.order_daily_totals GROUP BY 1, 2, 3 HAVING count(*) > 1
  ), gone AS (
    DELETE FROM public.order_daily_totals t USING several s
     WHERE t.day = s.day AND t.status = s.status AND t.channel = s.channel
    RETURNING t.day, t.status, t.channel, t.orders, t.total
  )
  INSERT INTO public.order_daily_totals (day, status, channel, orders, total)
  SELECT day, status, channel, sum(orders), sum(total) FROM gone
   GROUP BY day, status, channel HAVING sum(orders) <> 0 OR sum(total) <> 0;
END $$;

INSERT INTO order_daily_totals (day, status, channel, orders, total)
SELECT (order_date AT TIME ZONE 'UTC')::date, status, channel, count(*), sum(total) FROM orders GROUP BY 1, 2, 3;

-- RFM quintile boundaries ------------------------------------------------------------------------
-- The customer 360's segment: the background rollup refresh writes where each RFM quintile ends
-- over the last 12 months' buyers (server/services/analytics/rfm.ts), and one customer's scores are
-- three comparisons with them instead of ranking every buyer.
CREATE TABLE rfm_boundaries (
  singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  timezone    text NOT NULL,
  range_from  date NOT NULL,
  range_to    date NOT NULL,
  buyers      integer NOT NULL,
  bounds      jsonb NOT NULL,
  built_at    timestamptz NOT NULL DEFAULT now()
);

-- Consent filters ----------------------------------------------------------------------------------
-- "Marketing consent and tag vip", newest first, walked the created_at index past ~135,000
-- customers (every one a heap fetch) to find 51; starting from the consenting customers alone
-- halves that walk (docs/performance.md has the plans).
CREATE INDEX customers_consent_created_idx ON customers (marketing_consent, created_at, id);
