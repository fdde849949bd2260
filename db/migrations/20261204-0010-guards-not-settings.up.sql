-- Two guards that any SQL session could switch off with a SET: the loyalty balance's "only the
-- ledger moves it" (pulse.ledger_apply) and change capture (pulse.capture). Both settings stay as
-- hints, but neither is enough on its own any more.

-- The ledger guard --------------------------------------------------------------------------------

-- Balance, lifetime points and tier move only with the ledger: the ledger's trigger sets
-- pulse.ledger_apply around its UPDATE, but a session can set it too, so the guard also asks
-- that the change come from inside a trigger. This guard is a trigger itself (depth 1 when a
-- session updates the account directly); the ledger trigger's UPDATE fires it at depth 2 or more.
CREATE OR REPLACE FUNCTION loyalty_guard_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (pg_trigger_depth() < 2 OR current_setting('pulse.ledger_apply', true) IS DISTINCT FROM 'on')
     AND (TG_OP = 'INSERT' AND (NEW.balance <> 0 OR NEW.lifetime_points <> 0 OR NEW.tier <> 'bronze')
          OR TG_OP = 'UPDATE' AND (NEW.balance, NEW.lifetime_points, NEW.tier) IS DISTINCT FROM (OLD.balance, OLD.lifetime_points, OLD.tier)) THEN
    RAISE EXCEPTION 'loyalty balances change only through loyalty_ledger entries'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'loyalty_accounts_ledger_only';
  END IF;
  RETURN NEW;
END $$;

-- Pausing capture -----------------------------------------------------------------------------

-- A bulk load (the demo seed) may leave the change log alone for its own transaction by calling
-- pause_capture(): it records the transaction here and sets pulse.capture = 'off'. Capture is
-- skipped only when both say so, so setting pulse.capture by hand changes nothing. Only the
-- owner of the schema (the role that runs the migrations) may call it, and whoever it grants
-- EXECUTE to (GRANT EXECUTE ON FUNCTION pause_capture() TO some_loader).
CREATE TABLE capture_pauses (
  txid  xid8 PRIMARY KEY
);

-- A role granted every right on every table (GRANT ... ON ALL TABLES IN SCHEMA) still may not
-- write a pause itself: only pause_capture(), which runs as the table's owner, may.
CREATE FUNCTION capture_pauses_by_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_user <> pg_get_userbyid((SELECT c.relowner FROM pg_class c WHERE c.oid = TG_RELID)) THEN
    RAISE EXCEPTION 'capture is paused with pause_capture() only' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER capture_pauses_by_owner BEFORE INSERT OR UPDATE ON capture_pauses
  FOR EACH ROW EXECUTE FUNCTION capture_pauses_by_owner();

-- It runs with the owner's rights, so it finds its table in Pulse's schema, never first in the
-- caller's temporary schema (where anyone may create a capture_pauses).
CREATE FUNCTION pause_capture() RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  -- Pauses of finished transactions are of no use; one in use elsewhere is not waited for.
  DELETE FROM capture_pauses WHERE txid IN (
    SELECT p.txid FROM capture_pauses p WHERE p.txid < pg_snapshot_xmin(pg_current_snapshot()) FOR UPDATE SKIP LOCKED);
  INSERT INTO capture_pauses (txid) VALUES (pg_current_xact_id()) ON CONFLICT DO NOTHING;
  PERFORM set_config('pulse.capture', 'off', true);
END $$;
REVOKE ALL ON FUNCTION pause_capture() FROM PUBLIC;

-- Whether this transaction called pause_capture(). SECURITY DEFINER, so that the capture
-- triggers (which run as whoever writes) can read capture_pauses while nobody else can.
CREATE FUNCTION capture_is_paused() RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM capture_pauses WHERE txid = pg_current_xact_id_if_assigned())
$$;

-- As in 0002, but pulse.capture alone no longer skips a row.
CREATE OR REPLACE FUNCTION capture_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  rec       jsonb;
  changed   jsonb;
  cust      integer;
  team      integer;
BEGIN
  IF current_setting('pulse.capture', true) = 'off' THEN
    IF capture_is_paused() THEN
      RETURN NULL;
    END IF;
  END IF;

  IF TG_OP = 'DELETE' THEN
    rec := to_jsonb(OLD) - 'search';
  ELSE
    rec := to_jsonb(NEW) - 'search';
  END IF;

  IF TG_OP = 'UPDATE' THEN
    SELECT jsonb_object_agg(o.key, o.value) INTO changed
      FROM jsonb_each(to_jsonb(OLD) - 'search') o
     WHERE o.value IS DISTINCT FROM rec -> o.key AND o.key <> 'updated_at';
    IF changed IS NULL THEN
      RETURN NULL; -- nothing a screen shows has changed
    END IF;
  END IF;

  CASE TG_TABLE_NAME
    WHEN 'customers' THEN
      cust := (rec ->> 'id')::integer;
    WHEN 'tickets' THEN
      cust := (rec ->> 'customer_id')::integer;
      team := (rec ->> 'team_id')::integer;
    WHEN 'ticket_messages' THEN
      SELECT t.customer_id, t.team_id INTO cust, team FROM tickets t WHERE t.id = (rec ->> 'ticket_id')::integer;
    WHEN 'order_items' THEN
      SELECT o.customer_id INTO cust FROM orders o WHERE o.id = (rec ->> 'order_id')::integer;
    WHEN 'loyalty_ledger' THEN
      SELECT a.customer_id INTO cust FROM loyalty_accounts a WHERE a.id = (rec ->> 'account_id')::integer;
      rec := rec || jsonb_build_object('customer_id', cust);
    ELSE
      cust := (rec ->> 'customer_id')::integer;
  END CASE;

  INSERT INTO change_log (topic, op, entity_id, customer_id, team_id, version, data, old)
  VALUES (TG_ARGV[0], lower(TG_OP), (rec ->> 'id')::bigint, cust, team, (rec ->> 'version')::integer, rec, changed);
  RETURN NULL;
END $$;

-- As in 0006, likewise.
CREATE OR REPLACE FUNCTION capture_access_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'sessions' THEN
    INSERT INTO change_log (topic, op, entity_id, data)
    VALUES ('session', 'delete', OLD.user_id, jsonb_build_object('session_id', OLD.id, 'user_id', OLD.user_id));
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' AND current_setting('pulse.capture', true) = 'off' THEN
    IF capture_is_paused() THEN
      RETURN NULL; -- a bulk load (the demo seed) is not replayed to screens
    END IF;
  END IF;
  IF TG_OP = 'UPDATE' AND (OLD.role, OLD.team_id, OLD.active, OLD.status, OLD.capacity, OLD.name)
                          IS NOT DISTINCT FROM (NEW.role, NEW.team_id, NEW.active, NEW.status, NEW.capacity, NEW.name) THEN
    RETURN NULL;
  END IF;
  INSERT INTO change_log (topic, op, entity_id, team_id, data, old)
  VALUES ('user', lower(TG_OP), NEW.id, NEW.team_id,
          jsonb_build_object('id', NEW.id, 'name', NEW.name, 'role', NEW.role, 'team_id', NEW.team_id, 'active', NEW.active,
                             'status', NEW.status, 'capacity', NEW.capacity, 'status_changed_at', NEW.status_changed_at),
          CASE WHEN TG_OP = 'UPDATE'
               THEN jsonb_build_object('role', OLD.role, 'team_id', OLD.team_id, 'active', OLD.active, 'status', OLD.status) END);
  RETURN NULL;
END $$;
