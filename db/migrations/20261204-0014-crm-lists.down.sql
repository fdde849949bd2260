DROP TRIGGER stats_dirty_flush ON stats_dirty;
DROP FUNCTION stats_flush();
DROP TABLE saved_views;

DROP INDEX products_name_trgm_idx, products_sku_trgm_idx, products_list_stock_idx, products_list_price_idx,
  products_list_name_idx;
DROP TRIGGER reviews_product_stats_delete ON reviews;
DROP TRIGGER reviews_product_stats_update ON reviews;
DROP TRIGGER reviews_product_stats_insert ON reviews;
DROP TRIGGER products_stats_insert ON products;
DROP FUNCTION product_stats_for_new_products(), product_stats_from_rows(), refresh_product_stats(integer[]);
DROP TABLE product_stats;

DROP INDEX order_stats_ticket_filter_idx, orders_external_trgm_idx, orders_list_external_idx, orders_list_channel_idx, orders_list_status_idx,
  orders_list_total_idx, orders_list_date_idx;
DROP TRIGGER tickets_order_stats_delete ON tickets;
DROP TRIGGER tickets_order_stats_update ON tickets;
DROP TRIGGER tickets_order_stats_insert ON tickets;
DROP TRIGGER order_items_order_stats_delete ON order_items;
DROP TRIGGER order_items_order_stats_update ON order_items;
DROP TRIGGER order_items_order_stats_insert ON order_items;
DROP TRIGGER orders_stats_insert ON orders;
DROP FUNCTION order_stats_for_new_orders(), order_stats_from_rows(), refresh_order_stats(integer[]);
DROP TABLE order_stats;

DROP INDEX customer_stats_open_ticket_filter_idx, customer_stats_tier_filter_idx, customers_phone_trgm_idx, customers_email_trgm_idx, customers_name_trgm_idx, customers_list_created_idx,
  customers_list_consent_idx, customers_list_country_idx, customers_list_phone_idx, customers_list_email_idx,
  customers_list_name_idx;
DROP TRIGGER loyalty_accounts_customer_stats_update ON loyalty_accounts;
DROP TRIGGER loyalty_accounts_customer_stats_insert ON loyalty_accounts;
DROP TRIGGER tickets_customer_stats_delete ON tickets;
DROP TRIGGER tickets_customer_stats_update ON tickets;
DROP TRIGGER tickets_customer_stats_insert ON tickets;
DROP TRIGGER orders_customer_stats_delete ON orders;
DROP TRIGGER orders_customer_stats_update ON orders;
DROP TRIGGER orders_customer_stats_insert ON orders;
DROP TRIGGER customers_stats_insert ON customers;
DROP FUNCTION customer_stats_for_new_customers(), customer_stats_from_rows(), refresh_customer_stats(integer[]);
DROP TABLE customer_stats;

DROP FUNCTION loyalty_tier_rank(loyalty_tier), customer_country(jsonb);

DROP FUNCTION stats_mark_dirty(text, integer[]);
DROP TABLE stats_dirty;
