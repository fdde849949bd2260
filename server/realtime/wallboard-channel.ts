import type { Logger } from 'pino';
import type { WallboardSnapshot } from '#shared/schemas/metrics.js';
import { rooms } from '#shared/rooms.js';
import { isManager } from '../auth/policies.js';
import type { Db } from '../data/db.js';
import { WallboardMetrics } from '../services/wallboard/metrics.js';
import { verifyWallboardToken } from '../services/wallboard/tokens.js';
import type { ChangeRow } from './change-reader.js';
import type { PulseServer } from './types.js';
import { guarded, onSocketEvent } from './safe-handler.js';
import { socketUser } from './socket-auth.js';
import type { PulseSocket } from './types.js';
import { WallboardPublisher, type PublisherOptions } from './wallboard-publisher.js';

export interface WallboardOptions extends PublisherOptions {
  db: Db;
  timezone: string;
  logger: Logger;
  reconcileMs?: number;
}

/** Client events a TV's socket may send; anything else is refused. */
const TV_EVENTS = new Set(['wallboard:watch', 'wallboard:unwatch']);

/**
 * The wallboard on the live path: metrics kept from the change stream, frames pushed to the
 * `wallboard` room, and the socket side of access: managers join with `wallboard:watch`; a TV's
 * socket authenticates with a wallboard token and joins that room only.
 */
export class Wallboard {
  readonly metrics: WallboardMetrics;
  private publisher: WallboardPublisher | undefined;
  /** This process's TV sockets by token id, to close them when the token is revoked. */
  private readonly tvSockets = new Map<number, Set<PulseSocket>>();

  constructor(private readonly opts: WallboardOptions) {
    this.metrics = new WallboardMetrics({
      db: opts.db,
      timezone: opts.timezone,
      logger: opts.logger,
      reconcileMs: opts.reconcileMs
    });
  }

  attach(io: PulseServer) {
    this.publisher = new WallboardPublisher(io, this.metrics, this.opts);
    this.metrics.onChange(() => this.publisher?.request());
  }

  start(): Promise<void> {
    return this.metrics.start();
  }

  // Hub side -------------------------------------------------------------------------------------

  /** A handshake that brings a wallboard token instead of a session cookie. */
  wantsToken(socket: PulseSocket): boolean {
    return typeof (socket.handshake.auth as { wallboardToken?: unknown })?.wallboardToken === 'string';
  }

  async authenticate(socket: PulseSocket): Promise<boolean> {
    const token = await verifyWallboardToken(
      this.opts.db,
      (socket.handshake.auth as { wallboardToken?: unknown }).wallboardToken
    );
    if (!token) return false;
    // No user: no user, team or manager room, no session to follow; the role is the least one.
    socket.data = {
      userId: 0,
      name: `Wallboard: ${token.name}`,
      role: 'agent',
      teamId: null,
      sessionHash: '',
      sessionExpiresAt: Number.MAX_SAFE_INTEGER,
      watching: {},
      typing: {},
      wallboardTokenId: token.id
    };
    return true;
  }

  /** A TV's socket: the wallboard room, the current numbers, and nothing it can ask for but those. */
  connectTv(socket: PulseSocket, horizon: string) {
    const tokenId = socket.data.wallboardTokenId!;
    const sockets = this.tvSockets.get(tokenId) ?? new Set<PulseSocket>();
    sockets.add(socket);
    this.tvSockets.set(tokenId, sockets);
    socket.on('disconnect', () => {
      sockets.delete(socket);
      if (sockets.size === 0) this.tvSockets.delete(tokenId);
    });
    socket.use(([event, ...args], next) => {
      if (TV_EVENTS.has(event)) return next();
      const ack = args[args.length - 1];
      if (typeof ack === 'function')
        ack({ error: { code: 'forbidden', message: 'A wallboard link shows the wallboard only' } });
    });
    this.bindWatch(socket);
    void socket.join(rooms.wallboard);
    socket.emit('live:ready', { horizon, replayed: 0 });
    guarded(
      this.opts.logger,
      () => ({ event: 'wallboard:tv_connected', tokenId }),
      () => {
        const snapshot = this.metrics.snapshot();
        if (snapshot) socket.emit('wallboard:updated', snapshot);
      }
    )();
  }

  /** A signed-in user's socket: managers and admins may watch the wallboard. */
  bindWatch(socket: PulseSocket) {
    const { logger } = this.opts;
    onSocketEvent(socket, logger, 'wallboard:watch', async (ack) => {
      if (typeof ack !== 'function') return;
      const tv = socket.data.wallboardTokenId !== undefined;
      if (!tv && !isManager(socketUser(socket.data))) {
        return ack({ error: { code: 'forbidden', message: 'The wallboard is for managers' } });
      }
      const snapshot: WallboardSnapshot | null = this.metrics.snapshot();
      if (!snapshot)
        return ack({ error: { code: 'unavailable', message: 'The wallboard is still loading; try again' } });
      await socket.join(rooms.wallboard);
      ack({ data: snapshot });
    });
    onSocketEvent(socket, logger, 'wallboard:unwatch', (ack) => {
      if (socket.data.wallboardTokenId === undefined) void socket.leave(rooms.wallboard);
      if (typeof ack === 'function') ack({ data: { ok: true } });
    });
  }

  /** One read of the change log: the numbers and revoked tokens (the hub takes demoted managers out of the room). */
  apply(rows: readonly ChangeRow[]) {
    this.metrics.apply(rows);
    for (const row of rows) {
      if (row.topic === 'wallboard_token' && (row.op === 'delete' || row.data.revoked_at != null)) {
        for (const socket of this.tvSockets.get(Number(row.entityId)) ?? []) socket.disconnect(true);
      }
    }
  }

  close() {
    this.publisher?.close();
    this.metrics.close();
  }
}
