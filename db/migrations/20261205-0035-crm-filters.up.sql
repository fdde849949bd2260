-- The CRM tables' slow filters at 1M customers / 5M orders (docs/performance.md, 2026-12-05 (crm)).

-- Orders searched by a customer's name -----------------------------------------------------------
-- A page newest first takes each matched customer's newest orders after the cursor from this
-- index alone (index-only: the id and the date are in it), at most one page a customer, and
-- joins only the page's orders. It also serves everything the (customer_id, order_date DESC)
-- index did (the customer 360's orders in a date range), so that one goes.
CREATE INDEX orders_customer_page_idx ON orders (customer_id, order_date DESC, id DESC);
DROP INDEX orders_customer_date_idx;

-- Consent and tags ---------------------------------------------------------------------------------
-- "Marketing consent and tag vip", newest first: the page's ids are chosen from the customers
-- that are not merged away (server/services/lists/rows.ts), and with the tags in the index the walk
-- tests each consenting customer's tags on the index entry (an index-only scan) instead of
-- fetching the row.
CREATE INDEX customers_consent_created_tags_idx ON customers (marketing_consent, created_at, id) INCLUDE (tags)
  WHERE merged_into IS NULL;
DROP INDEX customers_consent_created_idx;
