import type pg from 'pg';
import type { Logger } from 'pino';
import type { SocketData } from '#shared/events.js';
import { rooms } from '#shared/rooms.js';
import { covers, parsePosition, type StreamPosition } from '#shared/stream-position.js';
import { canViewTicket, isManager } from '../auth/policies.js';
import { leaveCampaignsUnlessManager } from './campaign-watch.js';
import { leaveForbiddenLists } from './list-watch.js';
import { socketUser } from './socket-auth.js';
import type { PulseSocket } from './types.js';

/** The rooms a user's identity puts a socket in: its user, its team, the managers. */
export function authRooms(data: SocketData): string[] {
  const joined = [rooms.user(data.userId)];
  if (data.teamId !== null) joined.push(rooms.team(data.teamId));
  if (isManager(socketUser(data))) joined.push(rooms.managers);
  return joined;
}

/** The access a user has now, as a `user` change row or a fresh read carries it. */
export interface AccessState {
  role: SocketData['role'];
  teamId: number | null;
  active: boolean;
}

/**
 * Moves a socket to the rooms `next` allows: team and manager rooms follow, a user who is no
 * longer a manager leaves the wallboard, and ticket rooms the user may no longer see are left
 * (through `unwatch`, so presence hears of it).
 */
export function applyAccess(
  socket: PulseSocket,
  next: AccessState,
  unwatch: (socket: PulseSocket, ticketId: number) => void
) {
  if (!next.active) {
    socket.disconnect(true);
    return;
  }
  const before = authRooms(socket.data);
  socket.data.role = next.role;
  socket.data.teamId = next.teamId;
  const after = authRooms(socket.data);
  for (const room of before) if (!after.includes(room)) void socket.leave(room);
  void socket.join(after);
  const user = socketUser(socket.data);
  if (!isManager(user)) void socket.leave(rooms.wallboard);
  leaveForbiddenLists(socket);
  leaveCampaignsUnlessManager(socket);
  for (const [ticketId, teamId] of Object.entries(socket.data.watching)) {
    if (!canViewTicket(user, { teamId })) unwatch(socket, Number(ticketId));
  }
}

/**
 * What a socket's session and user are now: read after the socket joined its user room, so a
 * revocation, demotion or move that committed between the handshake's authentication and the
 * join (which the live path delivered to nobody) is still applied. Also caps the session's expiry
 * at its absolute lifetime. Null when the session or the user is gone.
 */
export async function readAccess(pool: pg.Pool, sessionHash: string, maxAgeMs: number) {
  const { rows } = await pool.query<{
    role: SocketData['role'];
    team_id: number | null;
    active: boolean;
    expires_at: Date;
    created_at: Date;
  }>(
    `SELECT u.role, u.team_id, u.active, s.expires_at, s.created_at
       FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE s.id = $1`,
    [sessionHash]
  );
  const r = rows[0];
  if (!r || !r.active) return null;
  return {
    access: { role: r.role, teamId: r.team_id, active: r.active } satisfies AccessState,
    expiresAt: Math.min(r.expires_at.getTime(), r.created_at.getTime() + maxAgeMs)
  };
}

/**
 * A ticket's team, read so that the answer is at least as new as everything the live path has
 * delivered: a socket that joins the ticket's room right after (in the same tick) then sees every
 * later move through the hub's recheck, and no move slips between the check and the join.
 * Null when the ticket does not exist.
 */
export async function ticketTeamNow(
  pool: pg.Pool,
  ticketId: number,
  delivered: () => StreamPosition | null,
  logger: Logger
): Promise<number | null> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const { rows } = await pool.query<{ team_id: number | null; snapshot: string }>(
      `SELECT (SELECT team_id FROM tickets WHERE id = $1) AS team_id, pg_current_snapshot()::text AS snapshot`,
      [ticketId]
    );
    const seen = parsePosition(rows[0].snapshot);
    const live = delivered();
    if (!live || (seen && covers(seen, live))) return rows[0].team_id;
  }
  logger.warn({ ticketId }, 'ticket team check kept trailing the live reader');
  throw new Error('ticket check trailed the live reader');
}
