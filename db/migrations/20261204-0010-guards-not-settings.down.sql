-- Capture skipped by the setting alone, and the ledger guard as 0001 made it.
CREATE OR REPLACE FUNCTION capture_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  rec       jsonb;
  changed   jsonb;
  cust      integer;
  team      integer;
BEGIN
  IF current_setting('pulse.capture', true) = 'off' THEN
    RETURN NULL;
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

CREATE OR REPLACE FUNCTION capture_access_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'sessions' THEN
    INSERT INTO change_log (topic, op, entity_id, data)
    VALUES ('session', 'delete', OLD.user_id, jsonb_build_object('session_id', OLD.id, 'user_id', OLD.user_id));
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' AND current_setting('pulse.capture', true) = 'off' THEN
    RETURN NULL; -- a bulk load (the demo seed) is not replayed to screens
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

CREATE OR REPLACE FUNCTION loyalty_guard_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('pulse.ledger_apply', true) IS DISTINCT FROM 'on'
     AND (TG_OP = 'INSERT' AND (NEW.balance <> 0 OR NEW.lifetime_points <> 0 OR NEW.tier <> 'bronze')
          OR TG_OP = 'UPDATE' AND (NEW.balance, NEW.lifetime_points, NEW.tier) IS DISTINCT FROM (OLD.balance, OLD.lifetime_points, OLD.tier)) THEN
    RAISE EXCEPTION 'loyalty balances change only through loyalty_ledger entries'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'loyalty_accounts_ledger_only';
  END IF;
  RETURN NEW;
END $$;

DROP FUNCTION capture_is_paused();
DROP FUNCTION pause_capture();
DROP TABLE capture_pauses;
DROP FUNCTION capture_pauses_by_owner();
