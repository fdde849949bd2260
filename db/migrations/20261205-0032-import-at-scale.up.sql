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
