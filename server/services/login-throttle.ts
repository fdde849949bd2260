import { QueryTypes, type Sequelize } from 'sequelize';

export interface ThrottleLimits {
  maxFailuresPerAccount: number;
  maxFailuresPerAddress: number;
  windowMinutes: number;
}

/**
 * Counts recent failed logins from the audit log, per account and per address, so that the
 * limit holds across every server process and survives restarts.
 * Returns the seconds to wait, or 0 when a login may be attempted.
 */
export async function loginRetryAfter(
  sequelize: Sequelize,
  email: string,
  ip: string | null,
  limits: ThrottleLimits
): Promise<number> {
  const [row] = await sequelize.query<{ account: number; address: number; oldest: Date | null }>(
    `SELECT
       count(*) FILTER (WHERE target_id = $1)::int AS account,
       count(*) FILTER (WHERE $2::inet IS NOT NULL AND ip = $2::inet)::int AS address,
       min(at) AS oldest
     FROM audit_log
     WHERE action = 'auth.login_failed'
       AND at > now() - make_interval(mins => $3)
       AND (target_id = $1 OR ($2::inet IS NOT NULL AND ip = $2::inet))`,
    { bind: [email, ip, limits.windowMinutes], type: QueryTypes.SELECT }
  );
  if (row.account < limits.maxFailuresPerAccount && row.address < limits.maxFailuresPerAddress) return 0;
  const windowEnds = (row.oldest?.getTime() ?? Date.now()) + limits.windowMinutes * 60_000;
  return Math.max(1, Math.ceil((windowEnds - Date.now()) / 1000));
}
