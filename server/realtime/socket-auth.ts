import type { User } from 'lucia';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { SocketData } from '#shared/events.js';
import type { Auth } from '../auth/lucia.js';
import { hashSessionId } from '../auth/session-adapter.js';
import { isAllowedOrigin, readOrigins } from '../http/origin-check.js';
import type { PulseSocket } from './types.js';

/** Who a socket is, as the policies take it. */
export function socketUser(data: SocketData): User {
  return { id: data.userId, role: data.role, teamId: data.teamId, name: data.name, email: '' };
}

/** A client-sent id: a positive safe integer, or null. */
export const positiveId = (value: unknown): number | null =>
  Number.isSafeInteger(value) && (value as number) > 0 ? (value as number) : null;

/**
 * Handshake gate: the upgrade must come from Pulse's own origin (browsers always send Origin on
 * WebSockets). Runs inside the HTTP server's upgrade listener, where an exception would end the
 * process: a malformed Host, Origin or forwarded header is a refusal.
 */
export function originAllowed(req: IncomingMessage, allowed: string[], trustProxy: boolean): boolean {
  const scheme = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
  const header = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
  const read = readOrigins(scheme, req.headers.host, header, trustProxy);
  if ('error' in read) return false;
  // Behind a TLS proxy that Pulse does not trust, the upgrade looks like plain http: accept the https twin too.
  return (
    isAllowedOrigin(read.origin, read.own, allowed) ||
    isAllowedOrigin(read.origin, read.own.replace(/^http:/, 'https:'), allowed)
  );
}

/** Resolves the session cookie of the handshake; the socket carries who it is in `socket.data`. */
export async function authenticateSocket(auth: Auth, socket: PulseSocket): Promise<boolean> {
  const sessionId = auth.readSessionCookie(socket.handshake.headers.cookie ?? '');
  if (!sessionId) return false;
  const { session, user } = await auth.validateSession(sessionId);
  if (!session || !user) return false;
  socket.data = {
    userId: user.id,
    name: user.name,
    role: user.role,
    teamId: user.teamId,
    sessionHash: hashSessionId(session.id),
    sessionExpiresAt: session.expiresAt.getTime(),
    watching: {},
    typing: {}
  };
  return true;
}
