-- customer_country (0014) without a set-returning subquery for the shapes customers have: with one
-- or two addresses, the first one marked default (the same cast, tested in the same order, so the
-- same errors) else the first address gives the country, read directly. A body without a subquery
-- is inlined into the calling query by the planner instead of run as a SQL function for each row:
-- the CSV export prints the country of every customer, and the function was about a third of the
-- database's CPU a row (docs/performance.md). Three addresses or more, or anything that is not an
-- array, take the old body. The result is the same for every value, so customers_list_country_idx
-- (built from the old body) stays valid.
CREATE FUNCTION customer_country_scan(addresses jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(
    (SELECT a ->> 'country' FROM jsonb_array_elements(addresses) a WHERE (a ->> 'default')::boolean LIMIT 1),
    addresses -> 0 ->> 'country')
$$;

CREATE OR REPLACE FUNCTION customer_country(addresses jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN jsonb_typeof(addresses) = 'array' AND jsonb_array_length(addresses) <= 2 THEN
      coalesce(
        CASE WHEN (addresses -> 0 ->> 'default')::boolean THEN addresses -> 0 ->> 'country'
             WHEN (addresses -> 1 ->> 'default')::boolean THEN addresses -> 1 ->> 'country' END,
        addresses -> 0 ->> 'country')
    ELSE public.customer_country_scan(addresses)
  END
$$;
