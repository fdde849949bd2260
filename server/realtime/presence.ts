import type { Logger } from 'pino';
import type { SocketData, Viewer } from '../../src/lib/shared/events.js';
import { rooms } from '../../src/lib/shared/rooms.js';
import { canViewTicket } from '../auth/policies.js';
import type { PulseServer } from './hub.js';
import { positiveId, socketUser, type PulseSocket } from './socket-auth.js';

const TYPING_TIMEOUT_MS = 6_000;

/** A ticket's viewers from the sockets watching it: one per user, typing if any of their sockets is, by name. */
function viewersOf(sockets: Iterable<{ data: SocketData }>, ticketId: number): Viewer[] {
  const byUser = new Map<number, Viewer>();
  for (const s of sockets) {
    const seen = byUser.get(s.data.userId);
    const typing = !!s.data.typing?.[ticketId];
    byUser.set(s.data.userId, { userId: s.data.userId, name: s.data.name, typing: typing || !!seen?.typing });
  }
  return [...byUser.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Who is viewing a ticket and who is typing in it. State lives on the sockets themselves
 * (`socket.data`), and the list is read with `fetchSockets()`, which asks every server process
 * through the Socket.IO adapter: presence works across processes without a store of its own.
 */
export class Presence {
  private typingTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly io: PulseServer,
    private readonly logger: Logger
  ) {}

  bind(socket: PulseSocket, canWatch: (ticketId: number) => Promise<number | null>) {
    socket.on('ticket:watch', async (rawId, ack) => {
      if (typeof ack !== 'function') return;
      const ticketId = positiveId(rawId);
      if (!ticketId) return ack({ error: { code: 'validation_failed', message: 'ticketId must be a positive integer' } });
      const teamId = await canWatch(ticketId).catch(() => null);
      if (teamId === null) return ack({ error: { code: 'not_found', message: 'Ticket not found' } });
      socket.data.watching[ticketId] = teamId;
      await socket.join(rooms.ticket(ticketId));
      ack({ data: { viewers: await this.broadcast(ticketId, teamId) } });
    });

    socket.on('presence:list', async (ack) => {
      if (typeof ack !== 'function') return;
      try {
        const all = await this.io.fetchSockets();
        const user = socketUser(socket.data);
        const byTicket = new Map<number, { data: SocketData }[]>();
        for (const s of all) {
          for (const [id, teamId] of Object.entries(s.data.watching ?? {})) {
            if (!canViewTicket(user, { teamId })) continue;
            const watchers = byTicket.get(Number(id)) ?? [];
            watchers.push(s);
            byTicket.set(Number(id), watchers);
          }
        }
        const tickets = [...byTicket].map(([ticketId, watchers]) => ({ ticketId, viewers: viewersOf(watchers, ticketId) }));
        ack({ data: { tickets } });
      } catch {
        ack({ error: { code: 'unavailable', message: 'Presence is not available right now' } });
      }
    });

    socket.on('ticket:unwatch', (rawId, ack) => {
      const ticketId = positiveId(rawId);
      if (ticketId) this.unwatch(socket, ticketId);
      if (typeof ack === 'function') ack({ data: { ok: true } });
    });

    socket.on('ticket:typing', (payload) => {
      const ticketId = positiveId(payload?.ticketId);
      if (!ticketId || socket.data.watching[ticketId] === undefined) return;
      const typing = payload.typing === true;
      const key = `${socket.id}:${ticketId}`;
      clearTimeout(this.typingTimers.get(key));
      this.typingTimers.delete(key);
      if (typing) {
        // A client that stops sending (closed laptop) stops showing as typing.
        this.typingTimers.set(key, setTimeout(() => this.setTyping(socket, ticketId, false), TYPING_TIMEOUT_MS));
      }
      this.setTyping(socket, ticketId, typing);
    });

    socket.on('disconnect', () => {
      for (const key of this.typingTimers.keys()) {
        if (key.startsWith(`${socket.id}:`)) {
          clearTimeout(this.typingTimers.get(key));
          this.typingTimers.delete(key);
        }
      }
      for (const [ticketId, teamId] of Object.entries(socket.data.watching ?? {})) void this.broadcast(Number(ticketId), teamId);
    });
  }

  unwatch(socket: PulseSocket, ticketId: number) {
    const teamId = socket.data.watching[ticketId];
    delete socket.data.watching[ticketId];
    delete socket.data.typing[ticketId];
    void Promise.resolve(socket.leave(rooms.ticket(ticketId))).then(() => this.broadcast(ticketId, teamId));
  }

  private setTyping(socket: PulseSocket, ticketId: number, typing: boolean) {
    if (!!socket.data.typing[ticketId] === typing) return;
    if (typing) socket.data.typing[ticketId] = true;
    else delete socket.data.typing[ticketId];
    void this.broadcast(ticketId, socket.data.watching[ticketId]);
  }

  /**
   * Reads the viewers from every process and tells the ticket's room, and the ticket's team and the
   * managers, whose queues show who is viewing each ticket.
   */
  async broadcast(ticketId: number, teamId?: number): Promise<Viewer[]> {
    const room = rooms.ticket(ticketId);
    try {
      const viewers = viewersOf(await this.io.in(room).fetchSockets(), ticketId);
      const audience = teamId === undefined ? [room] : [room, rooms.team(teamId), rooms.managers];
      this.io.to(audience).emit('presence:changed', { ticketId, viewers });
      return viewers;
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, ticketId }, 'presence broadcast failed');
      return [];
    }
  }

  close() {
    for (const t of this.typingTimers.values()) clearTimeout(t);
    this.typingTimers.clear();
  }
}
