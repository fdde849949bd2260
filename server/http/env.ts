import type { Session, User } from 'lucia';
import type { Logger } from 'pino';
import type { Actor } from '../auth/actor.js';

/** What every request handler can read from the context. */
export interface AppEnv {
  Variables: {
    requestId: string;
    log: Logger;
    ip: string | null;
    /** Where the browser reached Pulse (scheme and host, as an Origin header would say it). */
    ownOrigin: string;
    user: User | null;
    session: Session | null;
    /** The API token a request authenticated with (see auth/token-auth.ts); null for sessions. */
    apiToken: { id: number; scopes: readonly string[] } | null;
  };
}

/** Handlers behind `requireUser` read a user that is known to be there. */
export interface SignedInEnv extends AppEnv {
  Variables: AppEnv['Variables'] & { user: User; session: Session };
}

export type { Actor };

/** The signed-in caller of a handler behind `requireUser` or `requireRole`. */
export const actorOf = (c: { var: SignedInEnv['Variables'] }): Actor => ({ user: c.var.user, ip: c.var.ip });
