import type { Logger } from 'pino';
import type { PulseServer, PulseSocket } from './types.js';

/**
 * A token bucket: `perSecond` sustained, `burst` at once. `take()` says whether this event may run.
 */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number
  ) {
    this.tokens = burst;
  }

  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

interface Rate {
  perSecond: number;
  burst: number;
}

/** Every client event of a socket, together. */
const ANY_EVENT: Rate = { perSecond: 20, burst: 40 };

/**
 * Events that cost more than their share, each with a bucket of its own on top of ANY_EVENT: a
 * watch reads the database, a catch-up replays part of the change log, a list answers with every
 * viewed ticket, and each typing toggle reaches every viewer of the ticket. The browser sends a
 * watch (and at most one catch-up) per screen it opens, all of them again after a reconnect, a
 * list when a queue opens, and "typing" every 3 s at most.
 */
const PER_EVENT = new Map<string, Rate>([
  ['ticket:watch', { perSecond: 5, burst: 20 }],
  ['live:catch_up', { perSecond: 5, burst: 20 }],
  ['presence:list', { perSecond: 1, burst: 5 }],
  ['ticket:typing', { perSecond: 4, burst: 10 }]
]);

/** Refused events a socket may run up before it is cut off: flooding, not a burst of clicks. */
const REFUSALS: Rate = { perSecond: 10, burst: 200 };

/** Sockets one user (or one TV link) may hold open on one server process. */
export const MAX_SOCKETS_PER_USER = 20;

/**
 * Rate limits a socket's events. A refused event is answered `too_many_requests` through its ack
 * (when it has one) and not run; a socket that keeps sending after that is disconnected.
 */
export function limitClientEvents(socket: PulseSocket, logger: Logger) {
  const any = new TokenBucket(ANY_EVENT.perSecond, ANY_EVENT.burst);
  const perEvent = new Map<unknown, TokenBucket>();
  const refusals = new TokenBucket(REFUSALS.perSecond, REFUSALS.burst);
  socket.use(([event, ...args], next) => {
    const rate = PER_EVENT.get(event);
    let own = rate && perEvent.get(event);
    if (rate && !own) perEvent.set(event, (own = new TokenBucket(rate.perSecond, rate.burst)));
    if (any.take() && (!own || own.take())) return next();
    if (!refusals.take()) {
      logger.warn({ userId: socket.data.userId, event: String(event) }, 'socket disconnected for flooding');
      socket.disconnect(true);
      return;
    }
    const ack = args[args.length - 1];
    if (typeof ack === 'function')
      ack({ error: { code: 'too_many_requests', message: `Slow down: ${String(event)} was rate limited` } });
  });
}

/**
 * Refuses a handshake (`too_many_connections`) from a user who already holds MAX_SOCKETS_PER_USER
 * sockets on this process. Register it after authentication: it counts by who the socket is.
 */
export function capSocketsPerUser(io: PulseServer, max = MAX_SOCKETS_PER_USER) {
  const open = new Map<string, Set<string>>();
  io.use((socket, next) => {
    const who =
      socket.data.wallboardTokenId !== undefined
        ? `wallboard:${socket.data.wallboardTokenId}`
        : `user:${socket.data.userId}`;
    const sockets = open.get(who) ?? new Set<string>();
    if (sockets.size >= max) {
      const message = `At most ${max} open connections per user: close a tab and try again`;
      return next(
        Object.assign(new Error('too_many_connections'), { data: { code: 'too_many_connections', message } })
      );
    }
    sockets.add(socket.id);
    open.set(who, sockets);
    const release = () => {
      sockets.delete(socket.id);
      if (sockets.size === 0 && open.get(who) === sockets) open.delete(who);
    };
    // A socket that never finishes connecting has no `disconnect`; its transport still closes.
    socket.once('disconnect', release);
    socket.conn.once('close', release);
    next();
  });
}
