import type { Actor } from '../http/env.js';
import { AppError } from '../errors.js';
import { audit } from '../services/audit.js';

/**
 * Per-object authorization: when `allowed` is false the denial is audited and the caller is told
 * the object does not exist, so ids cannot be probed for what they hold.
 */
export async function authorizeObject(
  allowed: boolean,
  ctx: Actor,
  target: { type: string; id: number | string }
): Promise<void> {
  if (allowed) return;
  await audit({
    action: 'access.denied',
    actorUserId: ctx.user.id,
    targetType: target.type,
    targetId: target.id,
    ip: ctx.ip
  });
  throw new AppError('not_found', `${target.type[0].toUpperCase()}${target.type.slice(1)} not found`);
}
