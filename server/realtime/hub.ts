import type { Server as HttpServer } from 'node:http';
import type pg from 'pg';
import type { Logger } from 'pino';
import { Server } from 'socket.io';
import type { HandshakeAuth, SocketData } from '#shared/events.js';
import { rooms } from '#shared/rooms.js';
import { parsePosition, type StreamPosition } from '#shared/stream-position.js';
import type { Auth } from '../auth/lucia.js';
import { poolDb } from '../data/db.js';
import { canViewTicket } from '../auth/policies.js';
import { applyAccess, authRooms, readAccess, ticketTeamNow, type AccessState } from './access.js';
import type { ChangeRow, ReadResult } from './change-reader.js';
import { bindCampaignWatch } from './campaign-watch.js';
import { bindCustomerWatch } from './customer-watch.js';
import { allowedListRooms, bindListWatch } from './list-watch.js';
import { enforceEventContract } from './event-contract.js';
import { FanOut } from './fan-out.js';
import type { Wallboard } from './wallboard-channel.js';
import { Presence } from './presence.js';
import { bindProductWatch, productRoomsOf } from './product-watch.js';
import { capSocketsPerUser, limitClientEvents } from './rate-limit.js';
import { HELD_ROOM, Replayer } from './replay.js';
import { route, routeAvailability, type Outgoing } from './routing.js';
import { authenticateSocket, originAllowed, positiveId, socketUser } from './socket-auth.js';
import type { PulseServer, PulseSocket } from './types.js';

export interface HubOptions {
  httpServer: HttpServer;
  auth: Auth;
  /** Queries of the hub itself (policy checks, access re-reads). */
  pool: pg.Pool;
  /** Replays' own connections. */
  replayPool: pg.Pool;
  logger: Logger;
  allowedOrigins: string[];
  trustProxy: boolean;
  /** The reader's cursor: everything before it has been dispatched. */
  position: () => StreamPosition | null;
  /** Resolves when the reader is not in the middle of a large read (replays wait for it). */
  settled: () => Promise<void>;
  /** The same, as clients receive it. */
  horizon: () => string;
  /** A session's absolute lifetime: a socket never outlives it. */
  sessionMaxMs: number;
  /** A socket that would receive more events than this from one read gets one resync instead. */
  burstLimit?: number;
  /** Wallboard metrics and access: `wallboard:watch`, TV sockets with a wallboard token. */
  wallboard?: Wallboard;
}

const MAX_MESSAGE_BYTES = 64 * 1024;
/** Rooms a handshake may ask to be in from the start (the screens open in one tab). */
const MAX_HANDSHAKE_WATCHES = 50;
/** Temporary room of the sockets a burst is replaced with a resync for, while one read is sent. */
const BURST_ROOM = 'pulse:burst';

/**
 * Socket.IO: authenticates sockets from the session cookie, puts them in the rooms their
 * access allows, and emits what the change listener read. Database changes are emitted to this
 * process's own sockets only (`io.local`): every process reads the change log itself.
 */
export class Hub {
  readonly io: PulseServer;
  readonly presence: Presence;
  private readonly burstLimit: number;
  private readonly replayer: Replayer;
  /** Sockets whose access changed (a `user` or `session` row) since they were counted: see connect(). */
  private readonly accessChanges = new WeakMap<PulseSocket, number>();
  /** Writes each read's events: a frame encoded once per change, one write per socket per read. */
  private readonly fanOut: FanOut;

  constructor(private readonly opts: HubOptions) {
    this.burstLimit = opts.burstLimit ?? 200;
    this.replayer = new Replayer(opts.replayPool, opts.position, opts.settled);
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
    this.fanOut = new FanOut(this.io);

    this.io.use((socket, next) => {
      (opts.wallboard?.wantsToken(socket)
        ? opts.wallboard.authenticate(socket)
        : authenticateSocket(opts.auth, socket)
      )
        .then((ok) =>
          next(
            ok
              ? undefined
              : Object.assign(new Error('unauthenticated'), { data: { code: 'unauthenticated' } })
          )
        )
        .catch((err) => {
          opts.logger.error({ err }, 'socket authentication failed');
          next(new Error('unavailable'));
        });
    });
    capSocketsPerUser(this.io);
    this.io.on('connection', (socket) => void this.connect(socket));
  }

  /**
   * A new socket: its rooms are joined and its live events held at once; then its access is read
   * again, the rooms its handshake asks for are joined, what it missed since its horizon is
   * replayed, and what was held meanwhile is sent. `live:ready` closes the sequence.
   */
  private async connect(socket: PulseSocket) {
    const { logger } = this.opts;
    if (socket.data.wallboardTokenId !== undefined) {
      this.limitClientEvents(socket);
      this.opts.wallboard!.connectTv(socket, this.opts.horizon());
      return this.confirmTvToken(socket);
    }
    void socket.join(authRooms(socket.data));
    this.replayer.hold(socket);
    this.accessChanges.set(socket, 0);
    this.limitClientEvents(socket);
    this.presence.bind(socket, (ticketId) => this.canWatchTicket(socket, ticketId));
    bindCustomerWatch(socket, logger, poolDb(this.opts.pool));
    bindListWatch(socket, logger);
    bindProductWatch(socket, poolDb(this.opts.pool), logger);
    bindCampaignWatch(socket, poolDb(this.opts.pool), logger);
    this.opts.wallboard?.bindWatch(socket);
    this.bindCatchUp(socket);

    const auth = (socket.handshake.auth ?? {}) as HandshakeAuth;
    try {
      if (!(await this.confirmAccess(socket))) return;
    } catch (err) {
      // Not knowing whether the session still stands, do not serve it: the client connects again.
      logger.warn(
        { err: (err as Error).message, userId: socket.data.userId },
        'socket access could not be confirmed'
      );
      socket.disconnect(true);
      return;
    }
    this.expireWithSession(socket);
    let sent = new Set<number>();
    let replayed = 0;
    try {
      await this.joinHandshakeWatches(socket, auth.watch);
      if (auth.horizon !== undefined) {
        const from = parsePosition(auth.horizon);
        const result = from ? await this.replayer.replay(socket, from) : ({ resync: 'retention' } as const);
        if ('resync' in result) this.replayer.resyncHeld(socket.id, result.resync, []);
        else sent = result.sent;
        replayed = sent.size;
      }
    } catch (err) {
      logger.error({ err, userId: socket.data.userId }, 'socket resume failed');
      this.replayer.resyncHeld(socket.id, 'retention', []);
    } finally {
      this.replayer.release(socket, this.opts.horizon(), sent);
    }
    if (socket.connected) socket.emit('live:ready', { horizon: this.opts.horizon(), replayed });
  }

  /**
   * Reads the session and user again now that the socket is in its user room: a change that
   * landed between authentication and the join reached nobody. A change the live path applied to
   * this socket meanwhile is newer than nothing we could read, so it wins.
   */
  private async confirmAccess(socket: PulseSocket): Promise<boolean> {
    const now = await readAccess(this.opts.pool, socket.data.sessionHash, this.opts.sessionMaxMs);
    if (!now || now.expiresAt <= Date.now()) {
      socket.disconnect(true);
      return false;
    }
    socket.data.sessionExpiresAt = now.expiresAt;
    if (this.accessChanges.get(socket) === 0)
      applyAccess(socket, now.access, (s, id) => this.presence.unwatch(s, id));
    return socket.connected;
  }

  /**
   * A TV's token, read again once its socket is registered for revocations: one revoked between
   * the handshake and the registration reached no socket, so it is caught here.
   */
  private async confirmTvToken(socket: PulseSocket) {
    const { rows } = await this.opts.pool
      .query(`SELECT 1 FROM wallboard_tokens WHERE id = $1 AND revoked_at IS NULL`, [
        socket.data.wallboardTokenId
      ])
      .catch(() => ({ rows: [] }));
    if (rows.length === 0) socket.disconnect(true);
  }

  /** Ticket and customer rooms the handshake asks for, after the same checks as their watch events. */
  private async joinHandshakeWatches(socket: PulseSocket, watch: HandshakeAuth['watch']) {
    const ids = (list: unknown) =>
      Array.isArray(list)
        ? list
            .slice(0, MAX_HANDSHAKE_WATCHES)
            .map(positiveId)
            .filter((id): id is number => id !== null)
        : [];
    void socket.join(allowedListRooms(socket, watch?.lists));
    for (const ticketId of ids(watch?.tickets)) {
      const teamId = await this.canWatchTicket(socket, ticketId).catch(() => null);
      if (teamId === null) continue;
      socket.data.watching[ticketId] = teamId;
      void socket.join(rooms.ticket(ticketId));
    }
    void socket.join(await productRoomsOf(poolDb(this.opts.pool), ids(watch?.products)));
    const customers = ids(watch?.customers);
    if (customers.length === 0) return;
    const { rows } = await this.opts.pool.query<{ id: number }>(
      `SELECT id FROM customers WHERE id = ANY($1::int[])`,
      [customers]
    );
    void socket.join(rows.map((r) => rooms.customer(r.id)));
  }

  /**
   * `live:catch_up`: a screen loaded state at a stream position the socket's stream does not
   * cover (it loaded before the socket was live, or it just joined a room): send what came after.
   */
  private bindCatchUp(socket: PulseSocket) {
    socket.on('live:catch_up', async (since, ack) => {
      if (typeof ack !== 'function') return;
      const from = parsePosition(since);
      if (!from)
        return ack({
          error: { code: 'validation_failed', message: 'since must be a stream position (xmin:xmax:xip)' }
        });
      this.replayer.hold(socket);
      let sent = new Set<number>();
      try {
        const result = await this.replayer.replay(socket, from);
        if ('resync' in result) this.replayer.resyncHeld(socket.id, result.resync, []);
        else sent = result.sent;
      } catch (err) {
        this.opts.logger.error({ err, userId: socket.data.userId }, 'catch-up failed');
        this.replayer.resyncHeld(socket.id, 'retention', []);
      } finally {
        this.replayer.release(socket, this.opts.horizon(), sent);
      }
      ack({ data: { replayed: sent.size, horizon: this.opts.horizon() } });
    });
  }

  /**
   * Hands one read of the change log to the sockets allowed to see each change, in the order of
   * the log. A ticket that changes team has its watchers checked right after its own event, so a
   * note the new team writes in the same read never reaches the old team's watchers. One change
   * that cannot be routed is logged and skipped; the rest of the read is still delivered.
   */
  dispatch(result: ReadResult) {
    const { logger } = this.opts;
    try {
      this.opts.wallboard?.apply(result.rows);
    } catch (err) {
      logger.error({ err }, 'wallboard could not apply a read');
    }
    if (result.gap) {
      // Retention deleted changes this process never read: every screen it serves reloads.
      logger.warn('change log pruned past this reader; clients reload');
      for (const id of this.io.of('/').sockets.keys()) this.replayer.resyncHeld(id, 'retention', []);
      this.io.local
        .except(HELD_ROOM)
        .emit('live:resync', { reason: 'retention', topics: [], horizon: this.opts.horizon() });
    }

    type Step = { out: Outgoing } | { recheck: { ticketId: number; teamId: number } };
    const steps: Step[] = [];
    for (const row of result.rows) {
      try {
        if (row.topic === 'session' || row.topic === 'user') {
          this.applyAccessChange(row);
          const availability = row.topic === 'user' ? routeAvailability(row, result.horizon) : null;
          if (availability) steps.push({ out: availability });
          continue;
        }
        const out = route(row, result.horizon);
        if (out) steps.push({ out });
        if (
          row.topic === 'ticket' &&
          row.old &&
          'team_id' in row.old &&
          row.entityId !== null &&
          row.teamId !== null
        ) {
          steps.push({ recheck: { ticketId: row.entityId, teamId: row.teamId } });
        }
      } catch (err) {
        logger.error({ err, seq: row.id, topic: row.topic }, 'change could not be routed; skipped');
      }
    }
    if (steps.length === 0) return;

    const burst = this.burstSockets(steps.flatMap((s) => ('out' in s ? [s.out] : [])));
    for (const socket of burst.keys()) void socket.join(BURST_ROOM);
    const sockets = (id: string) => this.io.of('/').sockets.get(id) as PulseSocket | undefined;
    for (const step of steps) {
      try {
        if ('recheck' in step) {
          // What the old team's watchers may still see goes out before they may be unwatched.
          this.fanOut.flush();
          this.recheckTicketWatchers(step.recheck.ticketId, step.recheck.teamId);
          continue;
        }
        const out = step.out;
        this.fanOut.add(out, [HELD_ROOM, BURST_ROOM]);
        if (this.replayer.holding) this.replayer.keep(out, sockets);
      } catch (err) {
        logger.error(
          { err, seq: 'out' in step ? step.out.payload.seq : undefined },
          'change could not be sent; skipped'
        );
      }
    }
    try {
      this.fanOut.flush();
    } catch (err) {
      logger.error({ err }, 'a read could not be sent');
    }
    for (const [socket, topics] of burst) {
      void socket.leave(BURST_ROOM);
      if (!this.replayer.resyncHeld(socket.id, 'burst', topics)) {
        socket.emit('live:resync', { reason: 'burst', topics: [...topics], horizon: this.opts.horizon() });
      }
    }
  }

  /**
   * The sockets that would receive more than the burst limit from this read, each with the
   * topics of everything it would have received (from any of its rooms): they get one resync
   * naming all of them instead.
   */
  private burstSockets(outgoing: Outgoing[]): Map<PulseSocket, Set<string>> {
    const perRoom = new Map<string, number>();
    for (const out of outgoing) for (const room of out.rooms) perRoom.set(room, (perRoom.get(room) ?? 0) + 1);
    const burstRooms = [...perRoom].filter(([, count]) => count > this.burstLimit).map(([room]) => room);
    const result = new Map<PulseSocket, Set<string>>();
    if (burstRooms.length === 0) return result;
    for (const room of burstRooms)
      for (const socket of this.localSocketsIn(room)) result.set(socket, new Set());
    for (const out of outgoing) {
      for (const [socket, topics] of result)
        if (out.rooms.some((r) => socket.rooms.has(r))) topics.add(out.topic);
    }
    return result;
  }

  /**
   * A session ended, or a user's role, team or active flag changed: sockets follow within the same
   * read. A user who is no longer a manager also stops watching the wallboard.
   */
  private applyAccessChange(row: ChangeRow) {
    const userId = Number(row.entityId);
    for (const socket of this.localSocketsIn(rooms.user(userId))) {
      this.accessChanges.set(socket, (this.accessChanges.get(socket) ?? 0) + 1);
      if (row.topic === 'session') {
        if (socket.data.sessionHash === row.data.session_id) socket.disconnect(true);
        continue;
      }
      const next: AccessState = {
        role: row.data.role as SocketData['role'],
        teamId: (row.data.team_id as number | null) ?? null,
        active: row.data.active !== false
      };
      applyAccess(socket, next, (s, id) => this.presence.unwatch(s, id));
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

  /** The ticket's team when this socket may watch it, as of everything delivered so far; else null. */
  private async canWatchTicket(socket: PulseSocket, ticketId: number): Promise<number | null> {
    const teamId = await ticketTeamNow(this.opts.pool, ticketId, this.opts.position, this.opts.logger);
    if (teamId === null || !canViewTicket(socketUser(socket.data), { teamId })) return null;
    return teamId;
  }

  /** Disconnects the socket when its session expires (rechecking first: HTTP use may have extended it). */
  private expireWithSession(socket: PulseSocket) {
    let timer: NodeJS.Timeout;
    const arm = (at: number) => {
      timer = setTimeout(
        () => {
          readAccess(this.opts.pool, socket.data.sessionHash, this.opts.sessionMaxMs)
            .then((now) => {
              if (now && now.expiresAt > Date.now()) arm(now.expiresAt);
              else socket.disconnect(true);
            })
            .catch(() => arm(Date.now() + 5_000));
        },
        Math.min(Math.max(at - Date.now(), 0), 2 ** 31 - 1)
      );
      timer.unref();
    };
    arm(socket.data.sessionExpiresAt);
    socket.on('disconnect', () => clearTimeout(timer));
  }

  /** What a socket may send: how often (rate-limit.ts), and in what shape (event-contract.ts). */
  private limitClientEvents(socket: PulseSocket) {
    limitClientEvents(socket, this.opts.logger);
    enforceEventContract(socket);
  }

  async close() {
    this.presence.close();
    await new Promise<void>((resolve) => this.io.close(() => resolve()));
  }
}
