-- Undoes 0040: customer_country as 0014 wrote it.
CREATE OR REPLACE FUNCTION customer_country(addresses jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(
    (SELECT a ->> 'country' FROM jsonb_array_elements(addresses) a WHERE (a ->> 'default')::boolean LIMIT 1),
    addresses -> 0 ->> 'country')
$$;
DROP FUNCTION customer_country_scan(jsonb);
