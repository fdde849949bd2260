DROP TRIGGER products_capture ON products;
DROP TRIGGER products_version ON products;
ALTER TABLE products DROP COLUMN version;
DROP TABLE custom_attribute_definitions;
DROP EXTENSION IF EXISTS pg_trgm;
