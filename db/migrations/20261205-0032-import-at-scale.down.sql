DROP INDEX customers_external_key;
ALTER TABLE customers
  DROP CONSTRAINT customers_external_both,
  DROP COLUMN external_id,
  DROP COLUMN external_source;
