import type { Db } from '../data/db.js';
import { audit } from './audit.js';

export interface ThrottleLimits {
  maxFailuresPerAccount: number;
  maxFailuresPerAddress: number;
  windowMinutes: number;
}

/** Advisory lock spaces (the two-key form) that serialise attempts per account and per address. */
const ACCOUNT_LOCK_SPACE = 72103306;
const ADDRESS_LOCK_SPACE = 72103307;

export type LoginAttempt = { attemptId: string; retryAfter: 0 } | { attemptId: null; retryAfter: number };

/**
 * Decides whether a login may be tried and, if so, records the attempt before the password is
 * verified. Counting and recording happen in one short transaction that holds the account's and
 * the address's advisory locks, so simultaneous attempts queue for a few milliseconds and no more
 * than the limit get through; the slow password check runs after the locks are gone.
 *
 * An attempt counts as a failure from the moment it is recorded until a sign-in names it as
 * succeeded, so attempts still being verified count too. The counts come from the audit log, so
 * they hold across every server process and survive restarts.
 * Returns the attempt's id, or the seconds to wait.
 */
export async function beginLoginAttempt(
  db: Db,
  attempt: { email: string; ip: string | null; userId: number | null },
  limits: ThrottleLimits
): Promise<LoginAttempt> {
  return db.transaction(async (t) => {
    // Always in this order (account, then address), so two attempts never wait for each other.
    await t.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [ACCOUNT_LOCK_SPACE, attempt.email]);
    if (attempt.ip !== null) {
      await t.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [ADDRESS_LOCK_SPACE, attempt.ip]);
    }
    const [row] = await t.query<{ account: number; address: number; oldest: Date | null }>(
      `SELECT
         count(*) FILTER (WHERE a.target_id = $1)::int AS account,
         count(*) FILTER (WHERE $2::inet IS NOT NULL AND a.ip = $2::inet)::int AS address,
         min(a.at) AS oldest
       FROM audit_log a
       WHERE a.action = 'auth.login_attempt'
         AND a.at > now() - make_interval(mins => $3)
         AND (a.target_id = $1 OR ($2::inet IS NOT NULL AND a.ip = $2::inet))
         AND NOT EXISTS (SELECT 1 FROM audit_log s
                          WHERE s.action = 'auth.login' AND s.actor_user_id = a.actor_user_id
                            AND s.at >= a.at AND s.details ->> 'attempt' = a.id::text)`,
      [attempt.email, attempt.ip, limits.windowMinutes]
    );
    const event = { targetType: 'email', targetId: attempt.email, ip: attempt.ip };
    if (row.account >= limits.maxFailuresPerAccount || row.address >= limits.maxFailuresPerAddress) {
      await audit(t, { action: 'auth.login_throttled', ...event });
      const windowEnds = (row.oldest?.getTime() ?? Date.now()) + limits.windowMinutes * 60_000;
      return { attemptId: null, retryAfter: Math.max(1, Math.ceil((windowEnds - Date.now()) / 1000)) };
    }
    const recorded = await audit(t, { action: 'auth.login_attempt', actorUserId: attempt.userId, ...event });
    return { attemptId: recorded.id, retryAfter: 0 };
  });
}
