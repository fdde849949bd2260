-- Imports at scale and the gaps left in data in (issue 11; docs/decisions.md, "Imports").

-- Customers' external ids ----------------------------------------------------------------------
-- The id a customer has in the system a file (or a shop) comes from: unique per source, so two
-- systems may both have a customer "1001". A customer carries at most one, from the first source
-- that named it; a merged-away customer keeps its own (its row is frozen), and whoever looks it up
-- follows resolve_customer_id() to the survivor, as with emails.
ALTER TABLE customers
  ADD COLUMN external_source text CHECK (external_source ~ '^[a-z0-9][a-z0-9_.-]{0,39}$'),
  ADD COLUMN external_id text CHECK (length(external_id) BETWEEN 1 AND 120),
  ADD CONSTRAINT customers_external_both CHECK ((external_source IS NULL) = (external_id IS NULL));
CREATE UNIQUE INDEX customers_external_key ON customers (external_source, external_id);

-- Inserted customers are captured a statement at a time -------------------------------------------
-- A 5,000-row import batch paid for each customer a plpgsql call per row-level trigger: change
-- capture, the phone fallback, the consent row (whose own capture followed), the notes move. Each
-- now runs once per INSERT statement over its transition table, writing the very same change_log
-- rows (same topics, same data, in id order), so screens, replays and outbound webhooks see what
-- they saw; updates and deletes keep their row-level triggers (they diff OLD and NEW). Statement
-- triggers fire in name order: the customers' insert capture comes before the consent and notes
-- rows their insert writes, as it did.
CREATE FUNCTION capture_inserted_rows() RETURNS trigger LANGUAGE plpgsql AS $$
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

DROP TRIGGER customers_capture ON customers;
CREATE TRIGGER customers_capture AFTER UPDATE OR DELETE ON customers
  FOR EACH ROW EXECUTE FUNCTION capture_change('customer');
CREATE TRIGGER customers_capture_insert AFTER INSERT ON customers
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION capture_inserted_rows('customer');

DROP TRIGGER customer_consents_capture ON customer_consents;
CREATE TRIGGER customer_consents_capture AFTER INSERT ON customer_consents
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION capture_inserted_rows('customer_consent');

-- The consent row of customers inserted with consent (customer_consent_from_column, set-based).
CREATE FUNCTION customer_consent_from_new_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('pulse.consent_sync', true) = 'on' THEN
    RETURN NULL;
  END IF;
  INSERT INTO public.customer_consents (customer_id, channel, granted, at, source, actor_user_id)
  SELECT n.id, 'email', true, coalesce(n.marketing_consent_at, now()), 'import', public.pulse_actor()
    FROM new_rows n WHERE n.marketing_consent ORDER BY n.id;
  RETURN NULL;
END $$;
DROP TRIGGER customers_consent_insert ON customers;
CREATE TRIGGER customers_consent_insert AFTER INSERT ON customers
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_consent_from_new_rows();

-- Notes written with new customers become note entries (customer_notes_from_column, set-based).
CREATE FUNCTION customer_notes_from_new_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.customer_notes (customer_id, author_id, body, created_at)
  SELECT n.id, public.pulse_actor(), n.notes, n.created_at FROM new_rows n WHERE n.notes ~ '\S' ORDER BY n.id;
  UPDATE public.customers c SET notes = ''
    FROM new_rows n WHERE c.id = n.id AND n.notes ~ '\S';
  RETURN NULL;
END $$;
DROP TRIGGER customers_notes_to_entries ON customers;
CREATE TRIGGER customers_notes_to_entries AFTER UPDATE OF notes ON customers
  FOR EACH ROW WHEN (new.notes ~ '\S') EXECUTE FUNCTION customer_notes_from_column();
CREATE TRIGGER customers_notes_to_entries_insert AFTER INSERT ON customers
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_notes_from_new_rows();

-- The phone fallback runs on insert only where it has something to do: a phone without its E.164
-- form (or an E.164 form without a phone). Writers that give both (the app, an import) skip it.
DROP TRIGGER customers_phone_e164 ON customers;
CREATE TRIGGER customers_phone_e164 BEFORE UPDATE OF phone, phone_e164 ON customers
  FOR EACH ROW EXECUTE FUNCTION phone_e164_default();
CREATE TRIGGER customers_phone_e164_insert BEFORE INSERT ON customers
  FOR EACH ROW WHEN ((new.phone IS NULL) <> (new.phone_e164 IS NULL)) EXECUTE FUNCTION phone_e164_default();
