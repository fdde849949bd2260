-- The live path's mailbox: every change to a live table writes one change_log row in the
-- same transaction, then rings a doorbell (NOTIFY) that tells listeners to read.
-- The doorbell's payload is never the row; the reader reads change_log.

CREATE TABLE change_log (
  id           bigserial PRIMARY KEY,
  txid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
  topic        text NOT NULL,
  op           text NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
  entity_id    bigint,
  customer_id  integer,
  team_id      integer,
  version      integer,
  data         jsonb NOT NULL,
  old          jsonb,
  created_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX change_log_txid_idx ON change_log (txid);
CREATE INDEX change_log_created_at_idx ON change_log (created_at);

-- Rows older than the retention window are deleted; a client that resumes from before the
-- newest deleted transaction must reload instead of replaying.
CREATE TABLE change_log_retention (
  singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  purged_through  xid8 NOT NULL DEFAULT '0'::xid8
);
INSERT INTO change_log_retention DEFAULT VALUES;

-- One capture function for every live table. TG_ARGV[0] is the topic.
-- A bulk loader may SET pulse.capture = 'off' for its own transaction (the demo seed does,
-- on an empty database); everything else is captured.
CREATE FUNCTION capture_change() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER orders_capture AFTER INSERT OR UPDATE OR DELETE ON orders
  FOR EACH ROW EXECUTE FUNCTION capture_change('order');
CREATE TRIGGER order_items_capture AFTER INSERT OR UPDATE OR DELETE ON order_items
  FOR EACH ROW EXECUTE FUNCTION capture_change('order_item');
CREATE TRIGGER tickets_capture AFTER INSERT OR UPDATE OR DELETE ON tickets
  FOR EACH ROW EXECUTE FUNCTION capture_change('ticket');
CREATE TRIGGER ticket_messages_capture AFTER INSERT OR UPDATE OR DELETE ON ticket_messages
  FOR EACH ROW EXECUTE FUNCTION capture_change('ticket_message');
CREATE TRIGGER loyalty_ledger_capture AFTER INSERT ON loyalty_ledger
  FOR EACH ROW EXECUTE FUNCTION capture_change('loyalty_entry');
CREATE TRIGGER loyalty_accounts_capture AFTER INSERT OR UPDATE OR DELETE ON loyalty_accounts
  FOR EACH ROW EXECUTE FUNCTION capture_change('loyalty_account');
CREATE TRIGGER customers_capture AFTER INSERT OR UPDATE OR DELETE ON customers
  FOR EACH ROW EXECUTE FUNCTION capture_change('customer');

-- Access changes travel the same path, so that a revoked session, a deactivated user or a
-- new role takes effect on open sockets whoever made the change (the app or psql).
CREATE FUNCTION capture_access_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'sessions' THEN
    INSERT INTO change_log (topic, op, entity_id, data)
    VALUES ('session', 'delete', OLD.user_id, jsonb_build_object('session_id', OLD.id, 'user_id', OLD.user_id));
  ELSIF (OLD.role, OLD.team_id, OLD.active) IS DISTINCT FROM (NEW.role, NEW.team_id, NEW.active) THEN
    INSERT INTO change_log (topic, op, entity_id, team_id, data, old)
    VALUES ('user', 'update', NEW.id, NEW.team_id,
            jsonb_build_object('id', NEW.id, 'role', NEW.role, 'team_id', NEW.team_id, 'active', NEW.active),
            jsonb_build_object('role', OLD.role, 'team_id', OLD.team_id, 'active', OLD.active));
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER sessions_capture AFTER DELETE ON sessions
  FOR EACH ROW EXECUTE FUNCTION capture_access_change();
CREATE TRIGGER users_capture AFTER UPDATE ON users
  FOR EACH ROW EXECUTE FUNCTION capture_access_change();

-- The doorbell. It rings at commit time (a deferred constraint trigger), once per
-- transaction, and only when no concurrent transaction is already ringing: NOTIFY takes a
-- database-wide lock at commit, and ringing on every commit serialises all writers.
-- A transaction that does not ring is read by the listener's follow-up read a few
-- milliseconds after the ringer's, or by its slow safety poll.
CREATE FUNCTION ring_doorbell() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('pulse.doorbell', true) IS DISTINCT FROM 'rung' THEN
    PERFORM set_config('pulse.doorbell', 'rung', true);
    IF pg_try_advisory_xact_lock(7210330641) THEN
      PERFORM pg_notify('crm_change', '');
    END IF;
  END IF;
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER change_log_doorbell AFTER INSERT ON change_log
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ring_doorbell();
