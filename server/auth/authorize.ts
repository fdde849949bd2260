import type { Db } from '../data/db.js';
import { AppError } from '../errors.js';
import { audit } from '../services/audit.js';
import type { Actor } from './actor.js';

/**
 * Per-object authorization: when `allowed` is false the denial is audited and the caller is told
 * the object does not exist, so ids cannot be probed for what they hold. Pass the request's `db`,
 * not a transaction's: the denial is recorded although the transaction it stops rolls back.
 */
export async function authorizeObject(
  db: Db,
  allowed: boolean,
  ctx: Actor,
  target: { type: string; id: number | string }
): Promise<void> {
  if (allowed) return;
  await audit(db, {
    action: 'access.denied',
    actorUserId: ctx.user.id,
    targetType: target.type,
    targetId: target.id,
    ip: ctx.ip
  });
  throw new AppError('not_found', `${target.type[0].toUpperCase()}${target.type.slice(1)} not found`);
}
