-- Duplicates and merge (docs/decisions.md, "Merging customers").
--
-- A merge moves everything a customer owns to a survivor in one transaction and leaves the merged
-- row behind as a tombstone: its id is an alias that resolves to the survivor (URLs, ingest by its
-- email or external ids), and its row keeps the identifiers that find it. Nothing is deleted that
-- something else still points at; the merge record keeps a snapshot of what the merged customer was.

-- Normalised identifiers ------------------------------------------------------------------------

-- Emails compare lower-cased and trimmed, without a "+tag" in the local part (every big provider
-- delivers user+tag@ to user@); for Gmail the dots of the local part do not count either
-- (j.doe@gmail.com is jdoe@gmail.com, as is jdoe@googlemail.com).
CREATE FUNCTION normalize_email(email text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
           WHEN local = '' THEN e
           WHEN domain IN ('gmail.com', 'googlemail.com') THEN replace(local, '.', '') || '@gmail.com'
           ELSE local || '@' || domain
         END
    FROM (SELECT e, split_part(split_part(e, '@', 1), '+', 1) AS local, split_part(e, '@', 2) AS domain
            FROM (SELECT lower(btrim(email)) AS e) AS t) AS parts
$$;

-- Phones compare by their last 9 digits: "+33 6 12 34 56 78" is "06 12 34 56 78", "+1 (415) 555-0134"
-- is "415-555-0134". Fewer than 9 digits is no phone to compare.
CREATE FUNCTION normalize_phone(phone text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN length(d) >= 9 THEN right(d, 9) END
    FROM (SELECT regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g') AS d) AS t
$$;

-- The postcodes of a customer's addresses (postal_code, postcode or zip), upper-cased, no spaces.
CREATE FUNCTION customer_postcodes(addresses jsonb) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT p ORDER BY p), '{}')
    FROM (SELECT upper(regexp_replace(coalesce(a ->> 'postal_code', a ->> 'postcode', a ->> 'zip'), '\s', '', 'g')) AS p
            FROM jsonb_array_elements(CASE WHEN jsonb_typeof(addresses) = 'array' THEN addresses ELSE '[]' END) AS a
           WHERE jsonb_typeof(a) = 'object') AS t
   WHERE p <> ''
$$;

CREATE FUNCTION customer_full_name(first_name text, last_name text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT lower(btrim(first_name || ' ' || last_name))
$$;

-- Tombstones ------------------------------------------------------------------------------------

ALTER TABLE customers
  ADD COLUMN merged_into integer REFERENCES customers (id) ON DELETE RESTRICT,
  ADD COLUMN merged_at timestamptz,
  ADD CONSTRAINT customers_merged_not_self CHECK (merged_into IS DISTINCT FROM id),
  ADD CONSTRAINT customers_merged_has_time CHECK ((merged_into IS NULL) = (merged_at IS NULL));

-- Suggestions look among live customers only.
CREATE INDEX customers_email_norm_idx ON customers (normalize_email(email)) WHERE merged_into IS NULL;
CREATE INDEX customers_phone_norm_idx ON customers (normalize_phone(phone))
  WHERE merged_into IS NULL AND phone IS NOT NULL;
CREATE INDEX customers_postcodes_idx ON customers USING gin (customer_postcodes(addresses)) WHERE merged_into IS NULL;
-- Other emails and phones (migration 0016) count as much as the primary ones.
CREATE INDEX customer_contacts_email_norm_idx ON customer_contacts (normalize_email(value)) WHERE kind = 'email';
CREATE INDEX customer_contacts_phone_norm_idx ON customer_contacts (normalize_phone(value)) WHERE kind = 'phone';
CREATE INDEX customers_merged_into_idx ON customers (merged_into) WHERE merged_into IS NOT NULL;

-- A merged customer's row is frozen: an edit that arrives after the merge fails (a 409 for the
-- app) instead of landing on a row nobody sees. Rewriting a row with its own values (an upsert
-- that found it) is no change and passes.
CREATE FUNCTION customers_merged_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.merged_into IS NOT NULL
     AND (to_jsonb(NEW) - 'version' - 'updated_at' - 'search') IS DISTINCT FROM (to_jsonb(OLD) - 'version' - 'updated_at' - 'search') THEN
    RAISE EXCEPTION 'customer % was merged into customer %', OLD.id, OLD.merged_into
      USING ERRCODE = 'object_not_in_prerequisite_state', CONSTRAINT = 'customers_merged_frozen';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER customers_merged_frozen BEFORE UPDATE ON customers
  FOR EACH ROW EXECUTE FUNCTION customers_merged_frozen();

-- Aliases and merges ----------------------------------------------------------------------------

-- Every merged-away id and the customer it resolves to now (kept flat: when a survivor is merged
-- in its turn, its aliases follow it).
CREATE TABLE customer_aliases (
  alias_id     integer PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
  customer_id  integer NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  merged_at    timestamptz NOT NULL DEFAULT now(),
  merged_by    integer REFERENCES users (id) ON DELETE SET NULL,
  CONSTRAINT customer_aliases_not_self CHECK (alias_id <> customer_id)
);
CREATE INDEX customer_aliases_customer_idx ON customer_aliases (customer_id);

-- The id a customer id stands for today: itself, or the survivor it was merged into.
CREATE FUNCTION resolve_customer_id(id integer) RETURNS integer LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT coalesce((SELECT a.customer_id FROM public.customer_aliases a WHERE a.alias_id = resolve_customer_id.id), resolve_customer_id.id)
$$;

-- One row a merge, append-only. `snapshot` holds the merged customer as it was (and the survivor
-- before the merge, and reviews that lost a conflict); `moved` counts what moved. `txid` ties the
-- row to its transaction: the ledger lets entries change account only under a merge of that
-- transaction. Captured on the live path: viewers of either customer are told.
CREATE TABLE customer_merges (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  survivor_id  integer NOT NULL REFERENCES customers (id) ON DELETE RESTRICT,
  merged_id    integer NOT NULL UNIQUE REFERENCES customers (id) ON DELETE RESTRICT,
  choices      jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(choices) = 'object'),
  snapshot     jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(snapshot) = 'object'),
  moved        jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(moved) = 'object'),
  merged_by    integer REFERENCES users (id) ON DELETE SET NULL,
  merged_at    timestamptz NOT NULL DEFAULT now(),
  txid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
  CONSTRAINT customer_merges_not_self CHECK (survivor_id <> merged_id)
);
CREATE INDEX customer_merges_survivor_idx ON customer_merges (survivor_id, merged_at DESC);
CREATE INDEX customer_merges_txid_idx ON customer_merges (txid);
CREATE TRIGGER customer_merges_append_only BEFORE UPDATE OR DELETE ON customer_merges
  FOR EACH ROW EXECUTE FUNCTION forbid_changes();
CREATE TRIGGER customer_merges_capture AFTER INSERT ON customer_merges
  FOR EACH ROW EXECUTE FUNCTION capture_change('customer_merge');

-- Pairs a manager said are not the same person (customer_a < customer_b).
CREATE TABLE duplicate_dismissals (
  customer_a    integer NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  customer_b    integer NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  dismissed_by  integer REFERENCES users (id) ON DELETE SET NULL,
  dismissed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (customer_a, customer_b),
  CONSTRAINT duplicate_dismissals_ordered CHECK (customer_a < customer_b)
);

-- Writes naming an alias land on its survivor ---------------------------------------------------

-- An order, ticket or review (or a 0016 contact, note, consent) written for a merged-away id (an import matched it by the alias's
-- email or external id) belongs to the survivor. Named to run before the other BEFORE triggers.
CREATE FUNCTION customer_alias_resolve() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  survivor integer;
BEGIN
  SELECT a.customer_id INTO survivor FROM public.customer_aliases a WHERE a.alias_id = NEW.customer_id;
  IF survivor IS NOT NULL THEN
    NEW.customer_id := survivor;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER orders_0_alias BEFORE INSERT OR UPDATE OF customer_id ON orders
  FOR EACH ROW EXECUTE FUNCTION customer_alias_resolve();
CREATE TRIGGER tickets_0_alias BEFORE INSERT OR UPDATE OF customer_id ON tickets
  FOR EACH ROW EXECUTE FUNCTION customer_alias_resolve();
CREATE TRIGGER reviews_0_alias BEFORE INSERT OR UPDATE OF customer_id ON reviews
  FOR EACH ROW EXECUTE FUNCTION customer_alias_resolve();
-- Likewise the profile's rows (migration 0016): a contact, note or consent for an alias.
CREATE TRIGGER customer_contacts_0_alias BEFORE INSERT ON customer_contacts
  FOR EACH ROW EXECUTE FUNCTION customer_alias_resolve();
CREATE TRIGGER customer_notes_0_alias BEFORE INSERT ON customer_notes
  FOR EACH ROW EXECUTE FUNCTION customer_alias_resolve();
CREATE TRIGGER customer_consents_0_alias BEFORE INSERT ON customer_consents
  FOR EACH ROW EXECUTE FUNCTION customer_alias_resolve();

-- The ledger under a merge ----------------------------------------------------------------------

-- Loyalty entries stay append-only: amounts, kinds, links and keys never change. The one change
-- allowed is the account an entry belongs to, from the merged customer's account to the
-- survivor's, inside the transaction that recorded that merge. Entries keep their links, so a
-- refund of a moved order later reverses its points on the survivor's account.
CREATE FUNCTION loyalty_ledger_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE'
     AND (to_jsonb(NEW) - 'account_id') = (to_jsonb(OLD) - 'account_id')
     AND EXISTS (SELECT 1
                   FROM public.customer_merges m
                   JOIN public.loyalty_accounts f ON f.customer_id = m.merged_id
                   JOIN public.loyalty_accounts t ON t.customer_id = m.survivor_id
                  WHERE m.txid = pg_current_xact_id() AND f.id = OLD.account_id AND t.id = NEW.account_id) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$;
DROP TRIGGER loyalty_ledger_append_only ON loyalty_ledger;
CREATE TRIGGER loyalty_ledger_append_only BEFORE UPDATE OR DELETE ON loyalty_ledger
  FOR EACH ROW EXECUTE FUNCTION loyalty_ledger_guard();

-- Entries that changed account carry their points, and their share of lifetime points (earned,
-- less earnings taken back), from one account to the other once per statement: the balance stays
-- the ledger's sum on both accounts, the tier follows lifetime points as always.
CREATE FUNCTION loyalty_ledger_moved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  m record;
  before_tier public.loyalty_tier;
  after_tier public.loyalty_tier;
  member integer;
BEGIN
  FOR m IN
    SELECT o.account_id AS from_id, n.account_id AS to_id, sum(n.points)::integer AS points,
           sum(CASE WHEN n.kind = 'earn' THEN n.points ELSE 0 END)::integer
             - coalesce(sum(t.points) FILTER (WHERE t.kind = 'earn'), 0)::integer AS lifetime,
           max(n.id) AS last_entry, max(n.created_at) AS last_at
      FROM new_rows n
      JOIN old_rows o ON o.id = n.id
      LEFT JOIN public.loyalty_ledger t ON t.id = n.reverses_id
     WHERE o.account_id <> n.account_id
     GROUP BY o.account_id, n.account_id
     ORDER BY least(o.account_id, n.account_id)
  LOOP
    FOR member IN SELECT unnest(ARRAY[m.from_id, m.to_id]) ORDER BY 1 LOOP
      SELECT tier INTO before_tier FROM public.loyalty_accounts WHERE id = member FOR NO KEY UPDATE;
      PERFORM set_config('pulse.ledger_apply', 'on', true);
      UPDATE public.loyalty_accounts
         SET balance = balance + CASE WHEN id = m.to_id THEN m.points ELSE -m.points END,
             lifetime_points = GREATEST(lifetime_points + CASE WHEN id = m.to_id THEN m.lifetime ELSE -m.lifetime END, 0),
             tier = public.loyalty_tier_for(GREATEST(lifetime_points + CASE WHEN id = m.to_id THEN m.lifetime ELSE -m.lifetime END, 0))
       WHERE id = member
      RETURNING tier INTO after_tier;
      PERFORM set_config('pulse.ledger_apply', 'off', true);
      IF after_tier IS DISTINCT FROM before_tier THEN
        INSERT INTO public.loyalty_tier_changes (account_id, customer_id, entry_id, from_tier, to_tier, changed_at)
        SELECT member, a.customer_id, m.last_entry, before_tier, after_tier, now()
          FROM public.loyalty_accounts a WHERE a.id = member;
      END IF;
    END LOOP;
  END LOOP;
  RETURN NULL;
END $$;
CREATE TRIGGER loyalty_ledger_moved AFTER UPDATE ON loyalty_ledger
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION loyalty_ledger_moved();

-- The merge -------------------------------------------------------------------------------------

-- Merges `merged` into `survivor` and returns the merge's id. Both customers are locked in id
-- order (an edit of either waits, or the merge waits for it; no deadlock with anything that locks
-- customers in id order, which one-row edits do). `choices` names, per field, whose value the
-- survivor keeps: email, phone, name, language, marketing_consent: 'survivor' | 'merged';
-- addresses: 'survivor' | 'merged' | 'both' (default 'both'); anything absent keeps the survivor's.
-- Tags are the union; notes, other contacts and consent evidence of both stay; attributes are
-- the survivor's over the merged's. Orders, tickets, reviews, the loyalty account's entries and balance move. Of two
-- reviews of one product the newer stays and the other is kept in the snapshot.
CREATE FUNCTION merge_customers(survivor integer, merged integer, choices jsonb, actor integer)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  s public.customers;
  m public.customers;
  pick text;
  merge_id bigint;
  dropped jsonb;
  n_orders integer;
  n_tickets integer;
  n_reviews integer;
  n_entries integer := 0;
  points integer := 0;
  from_account integer;
  to_account integer;
  new_email text;
  new_first text;
  new_last text;
  new_phone text;
  new_addresses jsonb;
  new_language text;
  new_consent boolean;
  latest_consent boolean;
  latest_consent_at timestamptz;
BEGIN
  IF survivor = merged THEN
    RAISE EXCEPTION 'a customer cannot be merged into itself' USING ERRCODE = 'check_violation', CONSTRAINT = 'customer_merges_not_self';
  END IF;
  PERFORM 1 FROM public.customers c WHERE c.id IN (survivor, merged) ORDER BY c.id FOR UPDATE;
  SELECT * INTO s FROM public.customers c WHERE c.id = survivor;
  SELECT * INTO m FROM public.customers c WHERE c.id = merged;
  IF s.id IS NULL OR m.id IS NULL THEN
    RAISE EXCEPTION 'no such customer' USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'customer_merges_customers';
  END IF;
  IF s.merged_into IS NOT NULL OR m.merged_into IS NOT NULL THEN
    RAISE EXCEPTION 'customer % was merged already', CASE WHEN s.merged_into IS NOT NULL THEN s.id ELSE m.id END
      USING ERRCODE = 'object_not_in_prerequisite_state', CONSTRAINT = 'customers_merged_frozen';
  END IF;
  choices := coalesce(choices, '{}'::jsonb);
  -- Who, for the profile's change log (migration 0016) of both customers.
  PERFORM set_config('pulse.actor', coalesce(actor::text, ''), true);

  -- What will move, counted while both are locked, so the record (written first: the ledger's
  -- guard looks for it) says it. Of two reviews of one product by both, the newer stays.
  SELECT coalesce(jsonb_agg(to_jsonb(r) - 'search' ORDER BY r.id), '[]') INTO dropped
    FROM public.reviews r
   WHERE r.id IN (SELECT CASE WHEN (a.created_at, a.id) > (b.created_at, b.id) THEN b.id ELSE a.id END
                    FROM public.reviews a JOIN public.reviews b ON b.product_id = a.product_id
                   WHERE a.customer_id = survivor AND b.customer_id = merged);
  SELECT count(*) INTO n_orders FROM public.orders o WHERE o.customer_id = merged;
  SELECT count(*) INTO n_tickets FROM public.tickets t WHERE t.customer_id = merged;
  SELECT count(*) INTO n_reviews FROM public.reviews r WHERE r.customer_id = merged
     AND NOT r.id IN (SELECT (d ->> 'id')::integer FROM jsonb_array_elements(dropped) d);
  SELECT a.id, a.balance INTO from_account, points FROM public.loyalty_accounts a WHERE a.customer_id = merged FOR NO KEY UPDATE;
  SELECT a.id INTO to_account FROM public.loyalty_accounts a WHERE a.customer_id = survivor FOR NO KEY UPDATE;
  SELECT count(*) INTO n_entries FROM public.loyalty_ledger l WHERE l.account_id = from_account;

  INSERT INTO public.customer_merges (survivor_id, merged_id, choices, snapshot, moved, merged_by)
  VALUES (survivor, merged, choices,
          jsonb_build_object('merged', to_jsonb(m) - 'search', 'survivorBefore', to_jsonb(s) - 'search',
                             'mergedContacts', (SELECT coalesce(jsonb_agg(to_jsonb(k) ORDER BY k.id), '[]')
                                                  FROM public.customer_contacts k WHERE k.customer_id = merged),
                             'droppedReviews', dropped),
          jsonb_build_object('orders', n_orders, 'tickets', n_tickets, 'reviews', n_reviews,
                             'reviewsDropped', jsonb_array_length(dropped), 'loyaltyEntries', n_entries,
                             'points', coalesce(points, 0)),
          actor)
  RETURNING id INTO merge_id;

  DELETE FROM public.reviews r WHERE r.id IN (SELECT (d ->> 'id')::integer FROM jsonb_array_elements(dropped) d);
  UPDATE public.orders SET customer_id = survivor WHERE customer_id = merged;
  UPDATE public.tickets SET customer_id = survivor WHERE customer_id = merged;
  UPDATE public.reviews SET customer_id = survivor WHERE customer_id = merged;

  -- Loyalty: the account moves whole when the survivor has none, else its entries move (and
  -- their points with them, by the ledger's trigger).
  IF from_account IS NOT NULL THEN
    IF to_account IS NULL THEN
      UPDATE public.loyalty_accounts SET customer_id = survivor WHERE id = from_account;
    ELSE
      UPDATE public.loyalty_ledger SET account_id = to_account WHERE account_id = from_account;
    END IF;
  END IF;


  -- The profile's rows (migration 0016): other emails and phones (one of each value), authored
  -- notes, consent evidence. Order status history follows its orders by 0016's trigger.
  DELETE FROM public.customer_contacts k
   WHERE k.customer_id = merged
     AND EXISTS (SELECT 1 FROM public.customer_contacts o
                  WHERE o.customer_id = survivor AND o.kind = k.kind AND o.normalized = k.normalized);
  UPDATE public.customer_contacts SET customer_id = survivor WHERE customer_id = merged;
  UPDATE public.customer_notes SET customer_id = survivor WHERE customer_id = merged;
  UPDATE public.customer_consents SET customer_id = survivor WHERE customer_id = merged;

  -- Email consent is evidence (0016): both histories are the survivor's now. When the latest of
  -- them is not the consent chosen, the merge records the chosen one (and 0016's trigger sets the
  -- survivor's summary columns); else the columns follow the latest.
  pick := coalesce(choices ->> 'marketing_consent', 'survivor');
  new_consent := CASE WHEN pick = 'merged' THEN m.marketing_consent ELSE s.marketing_consent END;
  SELECT k.granted, k.at INTO latest_consent, latest_consent_at FROM public.customer_consents k
   WHERE k.customer_id = survivor AND k.channel = 'email' ORDER BY k.at DESC, k.id DESC LIMIT 1;
  IF new_consent IS DISTINCT FROM coalesce(latest_consent, false) THEN
    INSERT INTO public.customer_consents (customer_id, channel, granted, source, actor_user_id, note)
    VALUES (survivor, 'email', new_consent, 'merge', actor, format('Merged customer #%s', merged));
  ELSIF latest_consent IS NOT NULL THEN
    PERFORM set_config('pulse.consent_sync', 'on', true);
    UPDATE public.customers SET marketing_consent = latest_consent, marketing_consent_at = latest_consent_at
     WHERE id = survivor AND (marketing_consent, marketing_consent_at) IS DISTINCT FROM (latest_consent, latest_consent_at);
    PERFORM set_config('pulse.consent_sync', 'off', true);
  END IF;

  -- The survivor's fields.
  pick := coalesce(choices ->> 'email', 'survivor');
  new_email := CASE WHEN pick = 'merged' THEN m.email ELSE s.email END;
  pick := coalesce(choices ->> 'name', 'survivor');
  new_first := CASE WHEN pick = 'merged' THEN m.first_name ELSE s.first_name END;
  new_last := CASE WHEN pick = 'merged' THEN m.last_name ELSE s.last_name END;
  pick := coalesce(choices ->> 'phone', 'survivor');
  new_phone := CASE WHEN pick = 'merged' THEN m.phone ELSE s.phone END;
  pick := coalesce(choices ->> 'language', 'survivor');
  new_language := CASE WHEN pick = 'merged' THEN m.language ELSE s.language END;
  pick := coalesce(choices ->> 'addresses', 'both');
  new_addresses := CASE pick
    WHEN 'survivor' THEN s.addresses
    WHEN 'merged' THEN m.addresses
    ELSE s.addresses || coalesce((SELECT jsonb_agg(x) FROM jsonb_array_elements(m.addresses) x
                                   WHERE NOT s.addresses @> jsonb_build_array(x)), '[]')
  END;

  -- Emails are unique: the survivor taking the merged one hands its own to the tombstone, so
  -- both addresses still find the survivor.
  IF lower(new_email) <> lower(s.email) THEN
    UPDATE public.customers SET email = format('merging-%s@merge.invalid', merged) WHERE id = merged;
  END IF;
  UPDATE public.customers
     SET email = new_email, first_name = new_first, last_name = new_last, phone = new_phone,
         addresses = new_addresses, language = new_language,
         preferred_channels = ARRAY(SELECT DISTINCT unnest(s.preferred_channels || m.preferred_channels) ORDER BY 1),
         tags = ARRAY(SELECT DISTINCT unnest(s.tags || m.tags) ORDER BY 1),
         attributes = m.attributes || s.attributes
   WHERE id = survivor;
  UPDATE public.customers
     SET email = CASE WHEN lower(new_email) <> lower(s.email) THEN s.email ELSE email END,
         merged_into = survivor, merged_at = now()
   WHERE id = merged;

  -- The email and phone not chosen stay with the survivor as other contacts.
  INSERT INTO public.customer_contacts (customer_id, kind, value, label)
  SELECT survivor, v.kind, v.value, 'merged'
    FROM (VALUES ('email', CASE WHEN lower(new_email) = lower(s.email) THEN m.email ELSE s.email END),
                 ('phone', CASE WHEN new_phone IS NOT DISTINCT FROM s.phone THEN m.phone ELSE s.phone END)) AS v(kind, value)
   WHERE v.value IS NOT NULL
     AND NOT (v.kind = 'email' AND lower(v.value) = lower(new_email))
     AND NOT (v.kind = 'phone' AND normalize_phone(v.value) IS NOT DISTINCT FROM normalize_phone(new_phone))
  ON CONFLICT DO NOTHING;

  -- The merged id and its own aliases now resolve to the survivor.
  UPDATE public.customer_aliases SET customer_id = survivor WHERE customer_id = merged;
  INSERT INTO public.customer_aliases (alias_id, customer_id, merged_by) VALUES (merged, survivor, actor);
  DELETE FROM public.duplicate_dismissals WHERE merged IN (customer_a, customer_b);

  RETURN merge_id;
END $$;
