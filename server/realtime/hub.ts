import type { Server as HttpServer } from 'node:http';
import type pg from 'pg';
import type { Logger } from 'pino';
import { Server } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents, SocketData } from '../../src/lib/shared/events.js';
import { rooms } from '../../src/lib/shared/rooms.js';
import type { Auth } from '../auth/lucia.js';
import { canViewTicket, isManager } from '../auth/policies.js';
import { Session, Ticket } from '../models/index.js';
import { readSince, type ChangeRow, type ReadResult } from './change-reader.js';
import { bindCustomerWatch } from './customer-watch.js';
import type { Wallboard } from './metrics/index.js';
import { Presence } from './presence.js';
import { TokenBucket } from './rate-limit.js';
import { route, routeAvailability, type Outgoing } from './routing.js';
import { authenticateSocket, originAllowed, socketUser, type PulseSocket } from './socket-auth.js';

export type PulseServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

export interface HubOptions {
  httpServer: HttpServer;
  auth: Auth;
  pool: pg.Pool;
  logger: Logger;
  allowedOrigins: string[];
  trustProxy: boolean;
  /** The reader's current resume horizon. */
  horizon: () => string;
  /** A room that would receive more events than this from one read gets one resync instead. */
  burstLimit?: number;
  /** Wallboard metrics and access: `wallboard:watch`, TV sockets with a wallboard token. */
  wallboard?: Wallboard;
}

const MAX_MESSAGE_BYTES = 64 * 1024;
/** Most changes replayed to one reconnecting socket before it is told to reload. */
const REPLAY_LIMIT = 5000;

/**
 * Socket.IO: authenticates sockets from the session cookie, puts them in the rooms their
 * access allows, and emits what the change listener read. Database changes are emitted to this
 * process's own sockets only (`io.local`): every process reads the change log itself.
 */
export class Hub {
  readonly io: PulseServer;
  readonly presence: Presence;
  private readonly burstLimit: number;

  constructor(private readonly opts: HubOptions) {
    this.burstLimit = opts.burstLimit ?? 200;
    this.io = new Server(opts.httpServer, {
      path: '/socket.io',
      // WebSocket only: its handshake always carries Origin, which is checked before anything else.
      transports: ['websocket'],
      maxHttpBufferSize: MAX_MESSAGE_BYTES,
      serveClient: false,
      pingInterval: 10_000,
      pingTimeout: 5_000,
      // No connection-state recovery: it would restore a socket without running the auth
      // middleware again. Pulse resumes from the client's horizon instead (see connect()).
      allowRequest: (req, callback) => {
        const ok = originAllowed(req, opts.allowedOrigins, opts.trustProxy);
        callback(ok ? null : 'origin not allowed', ok);
      }
    });
    this.presence = new Presence(this.io, opts.logger);

    this.io.use((socket, next) => {
      (opts.wallboard?.wantsToken(socket) ? opts.wallboard.authenticate(socket) : authenticateSocket(opts.auth, socket))
        .then((ok) => next(ok ? undefined : Object.assign(new Error('unauthenticated'), { data: { code: 'unauthenticated' } })))
        .catch((err) => {
          opts.logger.error({ err }, 'socket authentication failed');
          next(new Error('unavailable'));
        });
    });
    this.io.on('connection', (socket) => void this.connect(socket));
  }

  private async connect(socket: PulseSocket) {
    const { logger } = this.opts;
    if (socket.data.wallboardTokenId !== undefined) {
      this.limitClientEvents(socket);
      return this.opts.wallboard!.connectTv(socket, this.opts.horizon());
    }
    socket.join(this.authRooms(socket.data));
    this.expireWithSession(socket);
    this.limitClientEvents(socket);
    this.presence.bind(socket, (ticketId) => this.canWatchTicket(socket, ticketId));
    bindCustomerWatch(socket);
    this.opts.wallboard?.bindWatch(socket);

    const resumeFrom = (socket.handshake.auth as { horizon?: unknown })?.horizon;
    const horizon = this.opts.horizon();
    let replayed = 0;
    if (typeof resumeFrom === 'string' && /^\d{1,20}$/.test(resumeFrom)) {
      try {
        replayed = await this.replay(socket, resumeFrom);
      } catch (err) {
        logger.error({ err }, 'replay failed');
        socket.emit('live:resync', { reason: 'retention', topics: [], horizon });
      }
    }
    if (socket.connected) socket.emit('live:ready', { horizon, replayed });
  }

  private authRooms(data: SocketData): string[] {
    const joined = [rooms.user(data.userId)];
    if (data.teamId !== null) joined.push(rooms.team(data.teamId));
    if (isManager(socketUser(data))) joined.push(rooms.managers);
    return joined;
  }

  /** Sends a reconnecting socket what it may see of the changes since its horizon. */
  private async replay(socket: PulseSocket, from: string): Promise<number> {
    const found = await readSince(this.opts.pool, from, REPLAY_LIMIT);
    if (found.purged || found.tooMany) {
      socket.emit('live:resync', { reason: found.purged ? 'retention' : 'burst', topics: [], horizon: this.opts.horizon() });
      return 0;
    }
    let sent = 0;
    for (const row of found.rows) {
      const out = route(row, from);
      if (out && out.rooms.some((r) => socket.rooms.has(r))) {
        socket.emit(out.event, out.payload as never);
        sent += 1;
      }
    }
    return sent;
  }

  /** Hands one read of the change log to the sockets allowed to see each change. */
  dispatch(result: ReadResult) {
    this.opts.wallboard?.apply(result.rows);
    const outgoing: Outgoing[] = [];
    for (const row of result.rows) {
      if (row.topic === 'session' || row.topic === 'user') {
        this.applyAccessChange(row);
        // Sent as it comes: outside burst accounting, and never replayed.
        const availability = row.topic === 'user' ? routeAvailability(row, result.horizon) : null;
        if (availability) this.io.local.to(availability.rooms).emit(availability.event, availability.payload as never);
        continue;
      }
      const out = route(row, result.horizon);
      if (out) outgoing.push(out);
    }
    if (outgoing.length === 0) return;

    const perRoom = new Map<string, { count: number; topics: Set<string> }>();
    for (const out of outgoing) {
      for (const room of out.rooms) {
        const entry = perRoom.get(room) ?? { count: 0, topics: new Set<string>() };
        entry.count += 1;
        entry.topics.add(out.topic);
        perRoom.set(room, entry);
      }
    }
    const burstRooms = [...perRoom].filter(([, v]) => v.count > this.burstLimit).map(([room]) => room);
    for (const out of outgoing) {
      const target = this.io.local.to(out.rooms);
      (burstRooms.length ? target.except(burstRooms) : target).emit(out.event, out.payload as never);
    }
    for (const room of burstRooms) {
      this.io.local.to(room).emit('live:resync', { reason: 'burst', topics: [...perRoom.get(room)!.topics], horizon: this.opts.horizon() });
    }
    for (const row of result.rows) {
      if (row.topic === 'ticket' && row.old && 'team_id' in row.old) this.recheckTicketWatchers(row.entityId!, row.teamId!);
    }
  }

  /**
   * A session ended, or a user's role, team or active flag changed: sockets follow within the same
   * read. A user who is no longer a manager also stops watching the wallboard.
   */
  private applyAccessChange(row: ChangeRow) {
    const userId = Number(row.entityId);
    for (const socket of this.localSocketsIn(rooms.user(userId))) {
      if (row.topic === 'session') {
        if (socket.data.sessionHash === row.data.session_id) socket.disconnect(true);
        continue;
      }
      if (row.data.active === false) {
        socket.disconnect(true);
        continue;
      }
      const before = this.authRooms(socket.data);
      socket.data.role = row.data.role as SocketData['role'];
      socket.data.teamId = (row.data.team_id as number | null) ?? null;
      const after = this.authRooms(socket.data);
      for (const room of before) if (!after.includes(room)) socket.leave(room);
      socket.join(after);
      const user = socketUser(socket.data);
      if (!isManager(user)) socket.leave(rooms.wallboard);
      for (const [ticketId, teamId] of Object.entries(socket.data.watching)) {
        if (!canViewTicket(user, { teamId })) this.presence.unwatch(socket, Number(ticketId));
      }
    }
  }

  private recheckTicketWatchers(ticketId: number, teamId: number) {
    for (const socket of this.localSocketsIn(rooms.ticket(ticketId))) {
      if (socket.data.watching[ticketId] !== undefined) socket.data.watching[ticketId] = teamId;
      if (!canViewTicket(socketUser(socket.data), { teamId })) this.presence.unwatch(socket, ticketId);
    }
  }

  /** This process's sockets in `room`. */
  private localSocketsIn(room: string): PulseSocket[] {
    const ids = this.io.of('/').adapter.rooms.get(room);
    return [...(ids ?? [])].map((id) => this.io.of('/').sockets.get(id) as PulseSocket).filter(Boolean);
  }

  private async canWatchTicket(socket: PulseSocket, ticketId: number): Promise<number | null> {
    const ticket = await Ticket.findByPk(ticketId, { attributes: ['id', 'teamId'] });
    if (!ticket || !canViewTicket(socketUser(socket.data), ticket)) return null;
    return ticket.teamId;
  }

  /** Disconnects the socket when its session expires (rechecking first: HTTP use may have extended it). */
  private expireWithSession(socket: PulseSocket) {
    let timer: NodeJS.Timeout;
    const arm = (at: number) => {
      timer = setTimeout(async () => {
        const session = await Session.findByPk(socket.data.sessionHash, { attributes: ['expiresAt'] }).catch(() => undefined);
        if (session && session.expiresAt.getTime() > Date.now()) arm(session.expiresAt.getTime());
        else if (session !== undefined) socket.disconnect(true);
        else arm(Date.now() + 5_000);
      }, Math.min(Math.max(at - Date.now(), 0), 2 ** 31 - 1));
      timer.unref();
    };
    arm(socket.data.sessionExpiresAt);
    socket.on('disconnect', () => clearTimeout(timer));
  }

  /** 20 client events a second (40 at once); a socket that keeps flooding is cut off. */
  private limitClientEvents(socket: PulseSocket) {
    const bucket = new TokenBucket(20, 40);
    socket.use(([event, ...args], next) => {
      if (bucket.take()) return next();
      if (bucket.overruns > 200) {
        this.opts.logger.warn({ userId: socket.data.userId }, 'socket disconnected for flooding');
        socket.disconnect(true);
        return;
      }
      const ack = args[args.length - 1];
      if (typeof ack === 'function') ack({ error: { code: 'too_many_requests', message: `Slow down: ${String(event)} was rate limited` } });
    });
  }

  async close() {
    this.presence.close();
    await new Promise<void>((resolve) => this.io.close(() => resolve()));
  }
}
