DROP FUNCTION loyalty_reverse_order(integer);
