DROP TABLE store_order_sources;
DROP TABLE store_delivery_bodies;
DROP TABLE store_deliveries;
DROP TABLE stores;
