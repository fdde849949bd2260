ALTER TABLE change_log_retention DROP COLUMN fence_at, DROP COLUMN fence;
DROP TRIGGER tickets_version ON tickets;
DROP TRIGGER loyalty_accounts_version ON loyalty_accounts;
DROP TRIGGER customers_version ON customers;
DROP TRIGGER orders_version ON orders;
DROP FUNCTION bump_version();
ALTER TABLE loyalty_accounts DROP COLUMN version;
ALTER TABLE customers DROP COLUMN version;
ALTER TABLE orders DROP COLUMN version;
