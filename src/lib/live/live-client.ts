import { io, type Socket } from 'socket.io-client';
import {
  DELIVERED_EVENTS,
  type ClientToServerEvents,
  type HandshakeAuth,
  type LiveMeta,
  type ServerToClientEvents
} from '$shared/events.js';
import {
  covers,
  formatPosition,
  laterOf,
  parsePosition,
  type StreamPosition
} from '$shared/stream-position.js';
import type { ListEntity } from '$shared/lists/query.js';
import { live } from './connection.svelte.js';

type PulseSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
type EventName = keyof ServerToClientEvents;
type Payload<E extends EventName> = Parameters<ServerToClientEvents[E]>[0];

/** Client events answered through an ack, their arguments before the ack, and the answer. */
type AskEvent =
  | 'ticket:watch'
  | 'customer:watch'
  | 'product:watch'
  | 'wallboard:watch'
  | 'list:watch'
  | 'campaign:watch'
  | 'presence:list'
  | 'live:catch_up';
type AskArgs<E extends AskEvent> = ClientToServerEvents[E] extends (...args: [...infer A, infer _Ack]) => void
  ? A
  : never;
export type Answer<E extends AskEvent> = ClientToServerEvents[E] extends (
  ...args: [...infer _A, (answer: infer R) => void]
) => void
  ? R
  : never;

/** Joining a room, and the event that leaves it. */
const UNWATCH = {
  'ticket:watch': 'ticket:unwatch',
  'customer:watch': 'customer:unwatch',
  'product:watch': 'product:unwatch',
  'wallboard:watch': 'wallboard:unwatch',
  'list:watch': 'list:unwatch',
  'campaign:watch': 'campaign:unwatch'
} as const;
type WatchEvent = keyof typeof UNWATCH;

interface Watch {
  event: WatchEvent;
  args: unknown[];
  listeners: Set<(answer: never) => void>;
}

type ResyncHandler = (topics: string[]) => Promise<unknown> | void;

const OFFLINE = { error: { code: 'offline', message: 'Not connected' } } as const;
const REMEMBERED_SEQS = 20_000;
/** A reload after a resync that failed is tried again after this long, doubling up to the max. */
const RESYNC_RETRY_MS = 1000;
const RESYNC_RETRY_MAX_MS = 30_000;
/** A refused handshake is tried again after this long. */
const REFUSED_RETRY_MS = 15_000;

const earlier = (a: StreamPosition | null, b: StreamPosition | null) =>
  !a ? b : !b ? a : laterOf(a, b) === a ? b : a;

export interface StartOptions {
  /** Called when the server refuses the socket (`unauthenticated`); the client has stopped by then. */
  onUnauthenticated: () => void;
  /** Called when the server ends the socket; by default `onUnauthenticated` (is the session still valid?). */
  onServerDisconnect?: () => void;
  /** Fixed handshake auth (a TV's token); by default the horizon to resume from. */
  auth?: HandshakeAuth;
  reconnectionDelay?: number;
  reconnectionDelayMax?: number;
}

/**
 * The browser's one live connection. It resumes from the horizon of the last event it applied,
 * drops events it has already applied (a replay may resend some), and hands each event to the
 * screens subscribed to it. Screens reload what they show when told to resync. Rooms a screen
 * watches are joined again after every reconnect (a new socket starts with none).
 */
export class LiveClient {
  private socket: PulseSocket | null = null;
  /** Where to resume: every change before it has been applied (or is in state loaded over REST). */
  private horizon: StreamPosition | null = null;
  /** State loaded over REST while no connection was live: the next handshake resumes from there at the latest. */
  private loadedWhileAway: StreamPosition | null = null;
  /** From where this connection has delivered everything: REST state at or after it needs no catch-up. */
  private coverage: StreamPosition | null = null;
  /** Resyncs whose reload has not succeeded yet: the horizon stays put until it has. */
  private resyncing = 0;
  /** The position the last handshake resumed from. */
  private resumePoint: StreamPosition | null = null;
  private applied = new Set<number>();
  private handlers = new Map<EventName, Set<(payload: never) => void>>();
  private resyncHandlers = new Set<ResyncHandler>();
  /** Rooms being watched, by event and arguments, with how many screens hold each. */
  private watches = new Map<string, Watch>();
  /** Between `live:ready` and the next disconnect: watches are sent now, else at the next ready. */
  private ready = false;

  /** Opens the connection (once per signed-in session, or per TV screen). */
  start({
    onUnauthenticated,
    onServerDisconnect = onUnauthenticated,
    auth,
    reconnectionDelay = 500,
    reconnectionDelayMax = 5000
  }: StartOptions) {
    if (this.socket) return;
    live.set('connecting');
    const socket: PulseSocket = io({
      path: '/socket.io',
      transports: ['websocket'],
      // Evaluated at every (re)connect: the server joins the rooms being watched and replays
      // what this client missed since its horizon (or since the oldest REST state on screen).
      auth: auth ?? ((cb) => cb(this.handshake())),
      reconnectionDelay,
      reconnectionDelayMax
    });
    this.socket = socket;

    socket.on('live:ready', ({ horizon }) => {
      const resumedFrom = this.resumePoint;
      const loaded = this.loadedWhileAway;
      this.resumePoint = null;
      this.loadedWhileAway = null;
      // Everything since the resume point was replayed; with none, the stream starts now.
      this.coverage = resumedFrom ?? parsePosition(horizon);
      this.advance(horizon);
      // REST state that arrived after the handshake left, from before the stream it started.
      if (loaded && this.coverage && !covers(loaded, this.coverage)) void this.catchUp(loaded);
      this.ready = true;
      live.set('live');
      for (const watch of this.watches.values()) this.send(watch, watch.listeners);
    });
    socket.on('live:resync', ({ topics, horizon }) => void this.resync(topics, horizon));
    socket.on('disconnect', (reason) => {
      this.ready = false;
      live.set(reason === 'io client disconnect' ? 'offline' : 'reconnecting');
      // The server ends a socket when its session ends: find out whether we are still signed in.
      if (reason === 'io server disconnect') onServerDisconnect();
    });
    socket.on('connect_error', (err) => {
      if (err.message === 'unauthenticated') {
        this.stop();
        onUnauthenticated();
        return;
      }
      live.set(navigator.onLine ? 'reconnecting' : 'offline');
      // A handshake the server refused (too many tabs, a server starting up) is not retried by
      // socket.io-client itself: try again a little later.
      if (!socket.active)
        setTimeout(() => this.socket === socket && !socket.connected && socket.connect(), REFUSED_RETRY_MS);
    });
    socket.io.on('reconnect_attempt', () => live.set(navigator.onLine ? 'reconnecting' : 'offline'));

    for (const event of DELIVERED_EVENTS) {
      socket.on(event, (payload: LiveMeta) => this.deliver(event, payload));
    }
    socket.on('presence:changed', (payload) => this.dispatch('presence:changed', payload));
    // Whole snapshots, latest wins: no seq to deduplicate.
    socket.on('wallboard:updated', (payload) => this.dispatch('wallboard:updated', payload));
    // A bulk job's whole state; the receiver keeps the furthest along (no seq, not replayed).
    socket.on('bulk:progress', (payload) => this.dispatch('bulk:progress', payload));
    socket.on('import:progress', (payload) => this.dispatch('import:progress', payload));
    socket.on('loyalty:preview_progress', (payload) => this.dispatch('loyalty:preview_progress', payload));
  }

  /** Connects again after the server ended the socket (it does not retry by itself then). */
  reconnect() {
    this.socket?.connect();
  }

  stop() {
    this.socket?.disconnect();
    this.socket = null;
    this.ready = false;
    this.horizon = null;
    this.loadedWhileAway = null;
    this.coverage = null;
    this.applied.clear();
    live.set('offline');
  }

  /**
   * A screen built state from a REST answer at `position` (its `Pulse-Horizon`): make sure every
   * change after it reaches the screen. While away, the next handshake resumes from there at the
   * latest; while live, a position the connection does not cover is caught up at once.
   */
  loadedAt(position: string | undefined) {
    const at = parsePosition(position);
    if (!at) return;
    if (!this.ready) {
      this.loadedWhileAway = earlier(this.loadedWhileAway, at);
      return;
    }
    if (this.coverage && covers(at, this.coverage)) return;
    void this.catchUp(at);
  }

  /** Asks the server for what this socket's rooms received after `from` (held live events follow). */
  private async catchUp(from: StreamPosition) {
    const answer = await this.ask('live:catch_up', formatPosition(from));
    if ('data' in answer && this.coverage && !covers(from, this.coverage)) this.coverage = from;
  }

  /** Where the server should start: the older of the horizon and any REST state loaded while away. */
  private handshake(): HandshakeAuth {
    const from = earlier(this.horizon, this.loadedWhileAway);
    this.resumePoint = from;
    const args = <T>(event: WatchEvent) =>
      [...this.watches.values()].filter((w) => w.event === event).map((w) => w.args[0] as T);
    return {
      ...(from ? { horizon: formatPosition(from) } : {}),
      watch: {
        tickets: args<number>('ticket:watch'),
        customers: args<number>('customer:watch'),
        products: args<number>('product:watch'),
        lists: args<ListEntity>('list:watch')
      }
    };
  }

  /**
   * The server could not send what happened (too much at once, or too long ago): every screen
   * subscribed reloads. The horizon moves on only once every reload succeeded; failures are
   * tried again with backoff, and until then a reconnect still resumes from before the resync.
   */
  private async resync(topics: string[], horizon: string) {
    this.resyncing += 1;
    let delay = RESYNC_RETRY_MS;
    let pending = [...this.resyncHandlers];
    try {
      for (;;) {
        const results = await Promise.allSettled(pending.map((handler) => handler(topics)));
        pending = pending.filter(
          (handler, i) => results[i].status === 'rejected' && this.resyncHandlers.has(handler)
        );
        if (pending.length === 0) break;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, RESYNC_RETRY_MAX_MS);
      }
    } finally {
      this.resyncing -= 1;
    }
    this.advance(horizon);
  }

  /** Subscribes a screen to an event; returns the unsubscribe function (use it in an effect's teardown). */
  on<E extends EventName>(event: E, handler: (payload: Payload<E>) => void): () => void {
    const set = this.handlers.get(event) ?? new Set();
    set.add(handler as (payload: never) => void);
    this.handlers.set(event, set);
    return () => set.delete(handler as (payload: never) => void);
  }

  /**
   * Called when the server says the client missed too much: reload the listed topics (all when
   * empty). Return the reload's promise: a rejected one is retried with backoff.
   */
  onResync(handler: ResyncHandler): () => void {
    this.resyncHandlers.add(handler);
    return () => this.resyncHandlers.delete(handler);
  }

  /** Sends a client event answered through an ack, as a promise (an `offline` error when not connected). */
  ask<E extends AskEvent>(event: E, ...args: AskArgs<E>): Promise<Answer<E>> {
    return new Promise((resolve) => {
      if (!this.socket?.connected) return resolve(OFFLINE as Answer<E>);
      (this.socket.emit as (e: string, ...a: unknown[]) => void)(event, ...args, resolve);
    });
  }

  /**
   * Joins a room while the returned release is not called: now when live, and again after every
   * reconnect; `onAck` hears each answer. Watches of one room are counted: the room is left
   * (`…:unwatch`) only when the last one is released.
   */
  watch<E extends WatchEvent>(
    event: E,
    args: AskArgs<E>,
    onAck?: (answer: Answer<E>) => void,
    since?: string
  ): () => void {
    const key = `${event} ${args.join(' ')}`;
    const watch = this.watches.get(key) ?? { event, args, listeners: new Set() };
    this.watches.set(key, watch);
    let caughtUp = !since;
    const listener = (answer: Answer<E>) => {
      // The room is joined now: what it received since the screen's REST state is sent too.
      if (!caughtUp && 'data' in (answer as object)) {
        caughtUp = true;
        const from = parsePosition(since);
        if (from) void this.catchUp(from);
      }
      onAck?.(answer);
    };
    watch.listeners.add(listener as (answer: never) => void);
    if (this.ready) this.send(watch, [listener as (answer: never) => void]);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      watch.listeners.delete(listener as (answer: never) => void);
      if (watch.listeners.size > 0) return;
      this.watches.delete(key);
      (this.socket?.emit as ((e: string, ...a: unknown[]) => void) | undefined)?.(UNWATCH[event], ...args);
    };
  }

  /** Sends a watch; its answer goes to the listeners still holding it. */
  private send(watch: Watch, to: Iterable<(answer: never) => void>) {
    const listeners = [...to];
    void (this.ask as (e: string, ...a: unknown[]) => Promise<never>)(watch.event, ...watch.args).then(
      (answer) => {
        for (const listener of listeners) if (watch.listeners.has(listener)) listener(answer);
      }
    );
  }

  emit<E extends 'ticket:typing'>(event: E, ...args: Parameters<ClientToServerEvents[E]>) {
    (this.socket?.emit as ((e: string, ...a: unknown[]) => void) | undefined)?.(event, ...args);
  }

  private deliver(event: EventName, payload: LiveMeta) {
    if (this.applied.has(payload.seq)) return;
    this.applied.add(payload.seq);
    if (this.applied.size > REMEMBERED_SEQS) {
      // Forget the oldest half; a replay never reaches that far back.
      const keep = [...this.applied].slice(-REMEMBERED_SEQS / 2);
      this.applied = new Set(keep);
    }
    this.advance(payload.horizon);
    this.dispatch(event, payload);
  }

  private dispatch(event: EventName, payload: unknown) {
    for (const handler of this.handlers.get(event) ?? []) handler(payload as never);
  }

  private advance(horizon: string) {
    const next = parsePosition(horizon);
    if (!next || this.resyncing > 0) return;
    this.horizon = this.horizon ? laterOf(this.horizon, next) : next;
  }
}

export const liveClient = new LiveClient();

export { isNewer } from './versions.js';
