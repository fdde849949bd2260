DROP TRIGGER customer_merges_net_points ON customer_merges;
DROP FUNCTION customer_merges_net_points();
