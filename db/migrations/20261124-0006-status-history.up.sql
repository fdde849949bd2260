-- Status history for the wallboard's "same time yesterday": what "waiting on agent" and
-- "agents online / busy" were then. One row per status change, written by the database whoever
-- changes the status (the app, an import, psql), and captured like every other live row.

CREATE TABLE ticket_status_changes (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ticket_id    integer NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
  from_status  ticket_status NOT NULL,
  to_status    ticket_status NOT NULL,
  changed_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT ticket_status_changes_change CHECK (from_status <> to_status)
);
CREATE INDEX ticket_status_changes_changed_at_idx ON ticket_status_changes (changed_at);
CREATE INDEX ticket_status_changes_ticket_idx ON ticket_status_changes (ticket_id);

CREATE TABLE agent_status_changes (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id      integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  from_status  agent_status NOT NULL,
  to_status    agent_status NOT NULL,
  changed_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT agent_status_changes_change CHECK (from_status <> to_status)
);
CREATE INDEX agent_status_changes_changed_at_idx ON agent_status_changes (changed_at);
CREATE INDEX agent_status_changes_user_idx ON agent_status_changes (user_id);

CREATE FUNCTION record_status_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'tickets' THEN
    INSERT INTO ticket_status_changes (ticket_id, from_status, to_status) VALUES (NEW.id, OLD.status, NEW.status);
  ELSE
    INSERT INTO agent_status_changes (user_id, from_status, to_status) VALUES (NEW.id, OLD.status, NEW.status);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER tickets_status_history AFTER UPDATE OF status ON tickets
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION record_status_change();
CREATE TRIGGER users_status_history AFTER UPDATE OF status ON users
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION record_status_change();

CREATE TRIGGER ticket_status_changes_capture AFTER INSERT ON ticket_status_changes
  FOR EACH ROW EXECUTE FUNCTION capture_change('ticket_status_change');
CREATE TRIGGER agent_status_changes_capture AFTER INSERT ON agent_status_changes
  FOR EACH ROW EXECUTE FUNCTION capture_change('agent_status_change');

-- A new user is live too: a new agent appears on the wallboard's agents panel at once.
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
CREATE TRIGGER users_capture_insert AFTER INSERT ON users
  FOR EACH ROW EXECUTE FUNCTION capture_access_change();
