import type { Db } from '../data/db.js';
import type { Actor } from '../auth/actor.js';

export interface AuditEvent {
  action: string;
  actorUserId?: number | null;
  targetType?: string;
  targetId?: string | number;
  ip?: string | null;
  details?: Record<string, unknown>;
}

/**
 * Appends to audit_log (the database refuses updates and deletes of it) through the caller's `db`:
 * called with a transaction's `db`, the row commits with the change it records, or not at all.
 */
export async function audit(db: Db, event: AuditEvent): Promise<{ id: string }> {
  const [row] = await db.query<{ id: string }>(
    `INSERT INTO audit_log (actor_user_id, action, target_type, target_id, ip, details)
     VALUES ($1, $2, $3, $4, $5::inet, $6::jsonb) RETURNING id::text AS id`,
    [
      event.actorUserId ?? null,
      event.action,
      event.targetType ?? null,
      event.targetId === undefined ? null : String(event.targetId),
      event.ip ?? null,
      JSON.stringify(event.details ?? {})
    ]
  );
  return row;
}

/**
 * Names the acting user for the database's own history (customer_changes, order_status_changes,
 * consents): the triggers read `pulse.actor`, local to the caller's transaction.
 */
export async function actAs(db: Db, actor: Actor): Promise<void> {
  await db.query(`SELECT set_config('pulse.actor', $1, true)`, [String(actor.user.id)]);
}
