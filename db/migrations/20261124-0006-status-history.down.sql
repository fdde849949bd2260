DROP TRIGGER users_capture_insert ON users;
CREATE OR REPLACE FUNCTION capture_access_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'sessions' THEN
    INSERT INTO change_log (topic, op, entity_id, data)
    VALUES ('session', 'delete', OLD.user_id, jsonb_build_object('session_id', OLD.id, 'user_id', OLD.user_id));
  ELSIF (OLD.role, OLD.team_id, OLD.active, OLD.status, OLD.capacity) IS DISTINCT FROM (NEW.role, NEW.team_id, NEW.active, NEW.status, NEW.capacity) THEN
    INSERT INTO change_log (topic, op, entity_id, team_id, data, old)
    VALUES ('user', 'update', NEW.id, NEW.team_id,
            jsonb_build_object('id', NEW.id, 'name', NEW.name, 'role', NEW.role, 'team_id', NEW.team_id, 'active', NEW.active,
                               'status', NEW.status, 'capacity', NEW.capacity, 'status_changed_at', NEW.status_changed_at),
            jsonb_build_object('role', OLD.role, 'team_id', OLD.team_id, 'active', OLD.active, 'status', OLD.status));
  END IF;
  RETURN NULL;
END $$;
DROP TRIGGER users_status_history ON users;
DROP TRIGGER tickets_status_history ON tickets;
DROP TABLE agent_status_changes;
DROP TABLE ticket_status_changes;
DROP FUNCTION record_status_change();
