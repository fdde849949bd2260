-- Back to the unqualified names of 0008 and 0010.
CREATE OR REPLACE FUNCTION loyalty_apply_entry() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  lifetime_delta integer := 0;
  target loyalty_ledger%ROWTYPE;
  before_tier loyalty_tier;
  after_tier loyalty_tier;
  member integer;
BEGIN
  IF NEW.kind = 'earn' THEN
    lifetime_delta := NEW.points;
  ELSIF NEW.reverses_id IS NOT NULL THEN
    SELECT * INTO target FROM loyalty_ledger WHERE id = NEW.reverses_id;
    IF NEW.kind = 'reverse'
       AND (target.reverses_id IS NOT NULL OR target.account_id <> NEW.account_id OR NEW.points <> -target.points) THEN
      RAISE EXCEPTION 'a reversal must undo exactly one entry (not a reversal) of the same account: %', NEW.reverses_id
        USING ERRCODE = 'check_violation', CONSTRAINT = 'loyalty_ledger_reverse_exact';
    END IF;
    IF NEW.kind = 'adjust'
       AND (target.kind <> 'earn' OR target.account_id <> NEW.account_id OR NEW.points > 0 OR NEW.points < -target.points) THEN
      RAISE EXCEPTION 'a clawback takes back at most the points of one earning of the same account: %', NEW.reverses_id
        USING ERRCODE = 'check_violation', CONSTRAINT = 'loyalty_ledger_clawback';
    END IF;
    IF target.kind = 'earn' THEN
      lifetime_delta := -target.points;
    END IF;
  END IF;
  -- NO KEY UPDATE: the insert's foreign-key check holds KEY SHARE on this row, and FOR UPDATE
  -- would deadlock two concurrent entries of one account against each other's share lock.
  SELECT tier INTO before_tier FROM loyalty_accounts WHERE id = NEW.account_id FOR NO KEY UPDATE;
  PERFORM set_config('pulse.ledger_apply', 'on', true);
  UPDATE loyalty_accounts
     SET balance = balance + NEW.points,
         lifetime_points = GREATEST(lifetime_points + lifetime_delta, 0),
         tier = loyalty_tier_for(GREATEST(lifetime_points + lifetime_delta, 0))
   WHERE id = NEW.account_id
  RETURNING tier, customer_id INTO after_tier, member;
  PERFORM set_config('pulse.ledger_apply', 'off', true);
  IF after_tier IS DISTINCT FROM before_tier THEN
    INSERT INTO loyalty_tier_changes (account_id, customer_id, entry_id, from_tier, to_tier, changed_at)
    VALUES (NEW.account_id, member, NEW.id, before_tier, after_tier, NEW.created_at);
  END IF;
  RETURN NEW;
END $$;

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
