-- The resume contract (docs/decisions.md, "Resuming is exact").
--
-- 1. Every live entity carries a version that grows by one with every change a screen could see,
--    whoever writes it (the app, an import, psql). A BEFORE UPDATE trigger runs once the row is
--    locked, so OLD is the last committed version and versions follow commit order: a client
--    applies an event only when it is newer than what it shows, and a replayed event that trails
--    a live one changes nothing. Tickets already had a version the app bumps; the trigger keeps
--    that (an explicit bump is kept, never lowered) and adds the bump a plain UPDATE forgot.
ALTER TABLE orders ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version >= 1);
ALTER TABLE customers ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version >= 1);
ALTER TABLE loyalty_accounts ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version >= 1);

-- Two ways to tell "something visible changed": comparing the rows themselves (cheap; for tables
-- without generated columns, whose NEW value a BEFORE trigger cannot read), or their JSON without
-- the generated `search` column (customers, tickets). updated_at and version never count.
CREATE FUNCTION bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  asked    integer := NEW.version;
  touched  timestamptz := NEW.updated_at;
  changed  boolean;
BEGIN
  IF TG_ARGV[0] = 'json' THEN
    changed := (to_jsonb(NEW) - 'version' - 'updated_at' - 'search') IS DISTINCT FROM (to_jsonb(OLD) - 'version' - 'updated_at' - 'search');
  ELSE
    NEW.version := OLD.version;
    NEW.updated_at := OLD.updated_at;
    changed := NEW IS DISTINCT FROM OLD;
    NEW.updated_at := touched;
  END IF;
  NEW.version := CASE WHEN changed THEN OLD.version + 1 ELSE greatest(asked, OLD.version) END;
  RETURN NEW;
END $$;

CREATE TRIGGER orders_version BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION bump_version('row');
CREATE TRIGGER customers_version BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION bump_version('json');
CREATE TRIGGER loyalty_accounts_version BEFORE UPDATE ON loyalty_accounts FOR EACH ROW EXECUTE FUNCTION bump_version('row');
CREATE TRIGGER tickets_version BEFORE UPDATE ON tickets FOR EACH ROW EXECUTE FUNCTION bump_version('json');

-- 2. Retention prunes by how long ago a transaction *ended*, not when it wrote: a transaction
--    open longer than the window must still be read after it commits. Each prune run records a
--    fence (the xmin of its snapshot: every transaction below it had ended); a later run deletes
--    only rows below a fence at least a few minutes old, which every running reader has passed.
ALTER TABLE change_log_retention
  ADD COLUMN fence xid8 NOT NULL DEFAULT '0'::xid8,
  ADD COLUMN fence_at timestamptz NOT NULL DEFAULT now();
