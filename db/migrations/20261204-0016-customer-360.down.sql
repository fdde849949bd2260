-- Authored notes go back into the one text column they came from, newest last.
ALTER TABLE customers DISABLE TRIGGER customers_change_log;
UPDATE customers c SET notes = n.body
  FROM (SELECT customer_id, string_agg(body, E'\n\n' ORDER BY created_at, id) AS body FROM customer_notes GROUP BY customer_id) n
 WHERE n.customer_id = c.id;
ALTER TABLE customers ENABLE TRIGGER customers_change_log;

DROP TRIGGER customers_change_log ON customers;
DROP TRIGGER orders_status_history ON orders;
DROP TRIGGER customers_notes_to_entries ON customers;
DROP TRIGGER customers_consent_insert ON customers;
DROP TRIGGER customers_consent_update ON customers;
DROP TABLE customer_changes;
DROP TABLE order_status_changes;
DROP TABLE customer_notes;
DROP TABLE customer_consents;
DROP VIEW customer_contact_points;
DROP TABLE customer_contacts;
DROP FUNCTION customer_record_changes();
DROP FUNCTION order_record_status_change();
DROP FUNCTION customer_notes_from_column();
DROP FUNCTION customer_consent_from_column();
DROP FUNCTION customer_consent_summarize();
DROP FUNCTION customer_consents_append_only();
DROP FUNCTION pulse_actor();
