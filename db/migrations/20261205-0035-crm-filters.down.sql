CREATE INDEX customers_consent_created_idx ON customers (marketing_consent, created_at, id);
DROP INDEX customers_consent_created_tags_idx;

CREATE INDEX orders_customer_date_idx ON orders (customer_id, order_date DESC);
DROP INDEX orders_customer_page_idx;
