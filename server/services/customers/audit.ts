import type { Db } from '../../data/db.js';
import type { Actor } from '../../http/env.js';
import { audit } from '../audit.js';

/**
 * One audit_log row for a customer edit, written with `db` (the caller's transaction): an edit and
 * its record commit together or not at all.
 */
export async function auditIn(
  db: Db,
  actor: Actor,
  action: string,
  target: { type: string; id: number | string },
  details: Record<string, unknown>
): Promise<void> {
  await audit(db, {
    action,
    actorUserId: actor.user.id,
    targetType: target.type,
    targetId: target.id,
    ip: actor.ip,
    details
  });
}
