DROP TRIGGER customers_phone_e164_insert ON customers;
DROP TRIGGER customers_phone_e164 ON customers;
CREATE TRIGGER customers_phone_e164 BEFORE INSERT OR UPDATE OF phone, phone_e164 ON customers
  FOR EACH ROW EXECUTE FUNCTION phone_e164_default();

DROP TRIGGER customers_notes_to_entries_insert ON customers;
DROP TRIGGER customers_notes_to_entries ON customers;
CREATE TRIGGER customers_notes_to_entries AFTER INSERT OR UPDATE OF notes ON customers
  FOR EACH ROW WHEN (new.notes ~ '\S') EXECUTE FUNCTION customer_notes_from_column();
DROP FUNCTION customer_notes_from_new_rows();

DROP TRIGGER customers_consent_insert ON customers;
CREATE TRIGGER customers_consent_insert AFTER INSERT ON customers
  FOR EACH ROW WHEN (new.marketing_consent) EXECUTE FUNCTION customer_consent_from_column();
DROP FUNCTION customer_consent_from_new_rows();

DROP TRIGGER customer_consents_capture ON customer_consents;
CREATE TRIGGER customer_consents_capture AFTER INSERT ON customer_consents
  FOR EACH ROW EXECUTE FUNCTION capture_change('customer_consent');

DROP TRIGGER customers_capture_insert ON customers;
DROP TRIGGER customers_capture ON customers;
CREATE TRIGGER customers_capture AFTER INSERT OR DELETE OR UPDATE ON customers
  FOR EACH ROW EXECUTE FUNCTION capture_change('customer');
DROP FUNCTION capture_inserted_rows();

DROP INDEX customers_external_key;
ALTER TABLE customers
  DROP CONSTRAINT customers_external_both,
  DROP COLUMN external_id,
  DROP COLUMN external_source;
