CREATE OR REPLACE FUNCTION capture_access_change() RETURNS trigger LANGUAGE plpgsql AS $$
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
DROP INDEX IF EXISTS tickets_queue_team_idx, tickets_queue_assignee_idx, tickets_queue_all_idx;
DROP TRIGGER IF EXISTS users_status_changed ON users;
DROP TRIGGER IF EXISTS users_return_tickets ON users;
DROP TRIGGER IF EXISTS users_deactivated_return_tickets ON users;
DROP TRIGGER IF EXISTS tickets_a_flag_vip ON tickets;
DROP TRIGGER IF EXISTS tickets_b_sla_due ON tickets;
DROP TRIGGER IF EXISTS tickets_c_route ON tickets;
DROP TRIGGER IF EXISTS tickets_d_assignment ON tickets;
DROP FUNCTION IF EXISTS return_tickets_of_deactivated_user(), touch_status_changed_at(), return_unanswered_tickets(), ticket_track_assignment(),
  ticket_route_new(), pick_agent(integer), ticket_flag_vip(), ticket_sla_due();
DROP FUNCTION IF EXISTS ticket_sla_due(ticket_status, timestamptz, timestamptz, timestamptz);
DROP TABLE IF EXISTS canned_responses, support_settings, sla_policies;
ALTER TABLE tickets DROP COLUMN IF EXISTS flagged, DROP COLUMN IF EXISTS assigned_at;
ALTER TABLE teams DROP COLUMN IF EXISTS auto_assign;
ALTER TABLE users DROP COLUMN IF EXISTS status, DROP COLUMN IF EXISTS status_changed_at,
  DROP COLUMN IF EXISTS capacity, DROP COLUMN IF EXISTS last_assigned_at;
DROP TYPE IF EXISTS agent_status;
