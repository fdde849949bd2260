-- The customers whose orders an orders search finds (issue 10's speed target and what a typo
-- finds, docs/performance.md "The CRM, session 11"). As orderSearchCustomers wrote it in SQL
-- before: the customers the search names as typed (email, phone, every word a prefix of a word
-- of their name); only when nobody is named is the search taken for a typo. The typo now tries
-- the closest names first: word similarity at least each of `close` in turn (the server passes
-- 0.65, ORDER_SEARCH_CLOSE), and only if none is that close the wide threshold the search set
-- (0.4: one typo in a short single word). "Iasac Hernandez" then finds Isaac Hernandez's orders
-- (0.69), not those of every Hernandez (0.625 each), and ranks one name instead of every
-- Hernandez in the shop (7,700 at 1M customers: 53 ms of a 60 ms query). How close a typo
-- leaves a name depends on the lengths of the words: "Iasac Mendoza" is 0.64 like Isaac Mendoza
-- and 0.57 like every Mendoza, and "Aan Hernandez" 0.71 like Ana and every Hernandez alike; such
-- searches list every name like them, best first, as before.
--
-- The threshold is pg_trgm's setting, which the name index reads for `<%`, so the tries are
-- separate statements: a function, so that every reader of the search (a page, the footer, an
-- export, the live check of a changed order) still runs one statement and gets the same customers.
CREATE FUNCTION order_search_customers(q text, pattern text, words text, digits text, letters boolean,
                                       n integer, close real[])
RETURNS TABLE (id integer) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  wide text := coalesce(current_setting('pg_trgm.word_similarity_threshold', true), '0.6');
  named text := 'c.email ILIKE $2'
    || CASE WHEN words IS NOT NULL THEN ' OR c.search @@ to_tsquery(''simple'', $3)' ELSE '' END
    || CASE WHEN digits IS NOT NULL THEN ' OR c.phone_e164 LIKE $4' ELSE '' END;
  got boolean;
  threshold real;
BEGIN
  -- Built for its parts, so each statement is planned for the indexes its parts have.
  RETURN QUERY EXECUTE format(
    'SELECT c.id FROM public.customers c WHERE c.merged_into IS NULL AND (%s)
      ORDER BY word_similarity($1, c.first_name || '' '' || c.last_name) DESC, c.id LIMIT $5', named)
    USING q, pattern, words, digits, n;
  IF FOUND OR NOT letters THEN
    RETURN;
  END IF;
  FOREACH threshold IN ARRAY close LOOP
    PERFORM set_config('pg_trgm.word_similarity_threshold', greatest(wide::real, threshold)::text, true);
    RETURN QUERY
      SELECT c.id FROM public.customers c
       WHERE c.merged_into IS NULL AND q <% (c.first_name || ' ' || c.last_name)
       ORDER BY word_similarity(q, c.first_name || ' ' || c.last_name) DESC, c.id LIMIT n;
    got := FOUND;
    PERFORM set_config('pg_trgm.word_similarity_threshold', wide, true);
    IF got THEN
      RETURN;
    END IF;
  END LOOP;
  RETURN QUERY
    SELECT c.id FROM public.customers c
     WHERE c.merged_into IS NULL AND q <% (c.first_name || ' ' || c.last_name)
     ORDER BY word_similarity(q, c.first_name || ' ' || c.last_name) DESC, c.id LIMIT n;
END $$;
