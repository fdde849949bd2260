import { Lucia, TimeSpan } from 'lucia';
import type { UserRole } from '#shared/enums.js';
import type { Config } from '../config.js';
import { SequelizeSessionAdapter, type SessionContext } from './session-adapter.js';

export const SESSION_COOKIE = 'pulse_session';

/** Sessions: ids and expiry. The cookie itself is written by `writeSessionCookie` (middleware.ts). */
export function createLucia(config: Pick<Config, 'SESSION_IDLE_MINUTES' | 'SESSION_MAX_HOURS'>) {
  return new Lucia(new SequelizeSessionAdapter(config.SESSION_MAX_HOURS * 3_600_000), {
    sessionExpiresIn: new TimeSpan(config.SESSION_IDLE_MINUTES, 'm'),
    // The cookie outlives browser restarts (lucia gives it 400 days); the session behind it ends
    // server-side after SESSION_IDLE_MINUTES idle or SESSION_MAX_HOURS, whichever comes first.
    sessionCookie: { name: SESSION_COOKIE, expires: false },
    getUserAttributes: (a) => ({ email: a.email, name: a.name, role: a.role, teamId: a.teamId })
  });
}

export type Auth = ReturnType<typeof createLucia>;

declare module 'lucia' {
  interface Register {
    Lucia: Auth;
    UserId: number;
    DatabaseUserAttributes: { email: string; name: string; role: UserRole; teamId: number | null };
    DatabaseSessionAttributes: Partial<SessionContext> & { createdAt?: Date };
  }
}
