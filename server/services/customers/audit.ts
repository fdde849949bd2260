import type { Db } from '../../data/db.js';
import type { Actor } from '../../http/env.js';

/**
 * One audit_log row, written with `db` (the caller's transaction): an edit and its record commit
 * together or not at all.
 */
export async function auditIn(
  db: Db,
  actor: Actor,
  action: string,
  target: { type: string; id: number | string },
  details: Record<string, unknown>
): Promise<void> {
  await db.query(
    `INSERT INTO audit_log (actor_user_id, action, target_type, target_id, ip, details) VALUES ($1, $2, $3, $4, $5, $6)`,
    [actor.user.id, action, target.type, String(target.id), actor.ip, JSON.stringify(details)]
  );
}

/**
 * Names the acting user for the database's own history (customer_changes, order_status_changes,
 * consents): the triggers read `pulse.actor`, local to this transaction.
 */
export async function actAs(db: Db, actor: Actor): Promise<void> {
  await db.query(`SELECT set_config('pulse.actor', $1, true)`, [String(actor.user.id)]);
}
