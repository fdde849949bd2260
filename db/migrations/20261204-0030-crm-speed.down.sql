DROP INDEX customers_consent_created_idx;

DROP TABLE rfm_boundaries;

DROP FUNCTION compact_order_daily_totals();
DROP TRIGGER orders_daily_totals_truncate ON orders;
DROP FUNCTION order_daily_totals_truncate();
DROP TRIGGER orders_daily_totals_delete ON orders;
DROP TRIGGER orders_daily_totals_update ON orders;
DROP TRIGGER orders_daily_totals_insert ON orders;
DROP FUNCTION order_daily_totals_from_rows();
DROP TABLE order_daily_totals;

DROP INDEX customers_phone_e164_trgm_idx;
DROP INDEX customer_contacts_phone_e164_idx;
DROP INDEX customers_phone_e164_idx;
CREATE INDEX customers_phone_trgm_idx ON customers USING gin (regexp_replace(coalesce(phone, ''), '\D', '', 'g') gin_trgm_ops);
CREATE INDEX customers_phone_norm_idx ON customers (normalize_phone(phone))
  WHERE merged_into IS NULL AND phone IS NOT NULL;
CREATE INDEX customer_contacts_phone_norm_idx ON customer_contacts (normalize_phone(value)) WHERE kind = 'phone';
DROP TRIGGER customer_contacts_phone_e164 ON customer_contacts;
DROP TRIGGER customers_phone_e164 ON customers;
ALTER TABLE customer_contacts DROP COLUMN phone_e164;
ALTER TABLE customers DROP COLUMN phone_e164;
DROP FUNCTION phone_e164_default();
DROP FUNCTION phone_e164_fallback(text, text);
DROP TABLE phone_settings;
