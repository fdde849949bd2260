-- The customers whose orders an orders search finds (issue 10's speed target and what a typo
-- finds, docs/performance.md "The CRM, session 11"). As orderSearchCustomers wrote it in SQL
-- before: the customers the search names as typed (email, phone, every word a prefix of a word
-- of their name); only when nobody is named is the search taken for a typo. The typo now tries
-- the closest names first: word similarity `close` or more (a transposed letter in a two-word name
-- is about 0.69), then, only if none is that close, the wide threshold the search set (0.4: one
-- typo in a short single word). "Iasac Hernandez" then finds Isaac Hernandez's orders, not those
-- of every Hernandez (0.625 each), and ranks tens of names instead of every Hernandez in the shop
-- (7,700 at 1M customers: 53 ms of a 60 ms query, now a few).
--
-- The threshold is pg_trgm's setting, which the name index reads for `<%`, so the two tries are
-- two statements: a function, so that every reader of the search (a page, the footer, an export,
-- the live check of a changed order) still runs one statement and gets the same customers.
CREATE FUNCTION order_search_customers(q text, pattern text, words text, digits text, letters boolean,
                                       n integer, close real)
RETURNS TABLE (id integer) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  wide text := coalesce(current_setting('pg_trgm.word_similarity_threshold', true), '0.6');
  named text := 'c.email ILIKE $2'
    || CASE WHEN words IS NOT NULL THEN ' OR c.search @@ to_tsquery(''simple'', $3)' ELSE '' END
    || CASE WHEN digits IS NOT NULL THEN ' OR c.phone_e164 LIKE $4' ELSE '' END;
  got boolean;
BEGIN
  -- Built for its parts, so each statement is planned for the indexes its parts have.
  RETURN QUERY EXECUTE format(
    'SELECT c.id FROM public.customers c WHERE c.merged_into IS NULL AND (%s)
      ORDER BY word_similarity($1, c.first_name || '' '' || c.last_name) DESC, c.id LIMIT $5', named)
    USING q, pattern, words, digits, n;
  IF FOUND OR NOT letters THEN
    RETURN;
  END IF;
  PERFORM set_config('pg_trgm.word_similarity_threshold', greatest(wide::real, close)::text, true);
  RETURN QUERY
    SELECT c.id FROM public.customers c
     WHERE c.merged_into IS NULL AND q <% (c.first_name || ' ' || c.last_name)
     ORDER BY word_similarity(q, c.first_name || ' ' || c.last_name) DESC, c.id LIMIT n;
  got := FOUND;
  PERFORM set_config('pg_trgm.word_similarity_threshold', wide, true);
  IF got THEN
    RETURN;
  END IF;
  RETURN QUERY
    SELECT c.id FROM public.customers c
     WHERE c.merged_into IS NULL AND q <% (c.first_name || ' ' || c.last_name)
     ORDER BY word_similarity(q, c.first_name || ' ' || c.last_name) DESC, c.id LIMIT n;
END $$;
