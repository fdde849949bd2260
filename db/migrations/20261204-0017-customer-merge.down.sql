DROP FUNCTION merge_customers(integer, integer, jsonb, integer);
DROP TRIGGER loyalty_ledger_moved ON loyalty_ledger;
DROP FUNCTION loyalty_ledger_moved();
DROP TRIGGER loyalty_ledger_append_only ON loyalty_ledger;
CREATE TRIGGER loyalty_ledger_append_only BEFORE UPDATE OR DELETE ON loyalty_ledger
  FOR EACH ROW EXECUTE FUNCTION forbid_changes();
DROP FUNCTION loyalty_ledger_guard();
DROP TRIGGER orders_0_alias ON orders;
DROP TRIGGER tickets_0_alias ON tickets;
DROP TRIGGER reviews_0_alias ON reviews;
DROP FUNCTION customer_alias_resolve();
DROP TABLE duplicate_dismissals;
DROP TABLE customer_merges;
DROP FUNCTION resolve_customer_id(integer);
DROP TABLE customer_aliases;
DROP TRIGGER customers_merged_frozen ON customers;
DROP FUNCTION customers_merged_frozen();
DROP INDEX customers_email_norm_idx;
DROP INDEX customers_phone_norm_idx;
DROP INDEX customers_postcodes_idx;
DROP INDEX customers_merged_into_idx;
DROP INDEX customer_contacts_email_norm_idx;
DROP INDEX customer_contacts_phone_norm_idx;
ALTER TABLE customers DROP CONSTRAINT customers_merged_has_time, DROP CONSTRAINT customers_merged_not_self,
  DROP COLUMN merged_at, DROP COLUMN merged_into;
DROP FUNCTION customer_full_name(text, text);
DROP FUNCTION customer_postcodes(jsonb);
DROP FUNCTION normalize_phone(text);
DROP FUNCTION normalize_email(text);
