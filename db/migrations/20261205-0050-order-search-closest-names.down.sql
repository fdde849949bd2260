DROP FUNCTION order_search_customers(text, text, text, text, boolean, integer, real[]);
