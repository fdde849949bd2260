import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, HandshakeAuth, LiveMeta, ServerToClientEvents } from '$shared/events.js';
import { live } from './connection.svelte.js';

type PulseSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
type EventName = keyof ServerToClientEvents;
type Payload<E extends EventName> = Parameters<ServerToClientEvents[E]>[0];

/** Client events answered through an ack, their arguments before the ack, and the answer. */
type AskEvent = 'ticket:watch' | 'customer:watch' | 'wallboard:watch' | 'presence:list';
type AskArgs<E extends AskEvent> = ClientToServerEvents[E] extends (...args: [...infer A, infer _Ack]) => void ? A : never;
export type Answer<E extends AskEvent> = ClientToServerEvents[E] extends (...args: [...infer _A, (answer: infer R) => void]) => void ? R : never;

/** Joining a room, and the event that leaves it. */
const UNWATCH = { 'ticket:watch': 'ticket:unwatch', 'customer:watch': 'customer:unwatch', 'wallboard:watch': 'wallboard:unwatch' } as const;
type WatchEvent = keyof typeof UNWATCH;

interface Watch {
  event: WatchEvent;
  args: unknown[];
  listeners: Set<(answer: never) => void>;
}

const OFFLINE = { error: { code: 'offline', message: 'Not connected' } } as const;
const REMEMBERED_SEQS = 20_000;

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
class LiveClient {
  private socket: PulseSocket | null = null;
  private horizon: string | undefined;
  private applied = new Set<number>();
  private handlers = new Map<EventName, Set<(payload: never) => void>>();
  private resyncHandlers = new Set<(topics: string[]) => void>();
  /** Rooms being watched, by event and arguments, with how many screens hold each. */
  private watches = new Map<string, Watch>();
  /** Between `live:ready` and the next disconnect: watches are sent now, else at the next ready. */
  private ready = false;

  /** Opens the connection (once per signed-in session, or per TV screen). */
  start({ onUnauthenticated, onServerDisconnect = onUnauthenticated, auth, reconnectionDelay = 500, reconnectionDelayMax = 5000 }: StartOptions) {
    if (this.socket) return;
    live.set('connecting');
    const socket: PulseSocket = io({
      path: '/socket.io',
      transports: ['websocket'],
      // Evaluated at every (re)connect: the server replays what this client missed since.
      auth: auth ?? ((cb) => cb(this.horizon ? { horizon: this.horizon } : {})),
      reconnectionDelay,
      reconnectionDelayMax
    });
    this.socket = socket;

    socket.on('live:ready', ({ horizon }) => {
      this.advance(horizon);
      this.ready = true;
      live.set('live');
      for (const watch of this.watches.values()) this.send(watch, watch.listeners);
    });
    socket.on('live:resync', ({ topics, horizon }) => {
      this.advance(horizon);
      for (const handler of this.resyncHandlers) handler(topics);
    });
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
    });
    socket.io.on('reconnect_attempt', () => live.set(navigator.onLine ? 'reconnecting' : 'offline'));

    for (const event of [
      'order:created',
      'order:updated',
      'ticket:created',
      'ticket:updated',
      'ticket:message_added',
      'loyalty:changed',
      'customer:updated'
    ] as const) {
      socket.on(event, (payload: LiveMeta) => this.deliver(event, payload));
    }
    socket.on('presence:changed', (payload) => this.dispatch('presence:changed', payload));
    socket.on('agent:status_changed', (payload) => this.deliver('agent:status_changed', payload));
    // Whole snapshots, latest wins: no seq to deduplicate.
    socket.on('wallboard:updated', (payload) => this.dispatch('wallboard:updated', payload));
  }

  /** Connects again after the server ended the socket (it does not retry by itself then). */
  reconnect() {
    this.socket?.connect();
  }

  stop() {
    this.socket?.disconnect();
    this.socket = null;
    this.ready = false;
    this.horizon = undefined;
    this.applied.clear();
    live.set('offline');
  }

  /** Subscribes a screen to an event; returns the unsubscribe function (use it in an effect's teardown). */
  on<E extends EventName>(event: E, handler: (payload: Payload<E>) => void): () => void {
    const set = this.handlers.get(event) ?? new Set();
    set.add(handler as (payload: never) => void);
    this.handlers.set(event, set);
    return () => set.delete(handler as (payload: never) => void);
  }

  /** Called when the server says the client missed too much: reload the listed topics (all when empty). */
  onResync(handler: (topics: string[]) => void): () => void {
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
  watch<E extends WatchEvent>(event: E, args: AskArgs<E>, onAck?: (answer: Answer<E>) => void): () => void {
    const key = `${event} ${args.join(' ')}`;
    const watch = this.watches.get(key) ?? { event, args, listeners: new Set() };
    this.watches.set(key, watch);
    const listener = (answer: Answer<E>) => onAck?.(answer);
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
    void (this.ask as (e: string, ...a: unknown[]) => Promise<never>)(watch.event, ...watch.args).then((answer) => {
      for (const listener of listeners) if (watch.listeners.has(listener)) listener(answer);
    });
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
    if (!this.horizon || BigInt(horizon) > BigInt(this.horizon)) this.horizon = horizon;
  }
}

export const liveClient = new LiveClient();

/**
 * Applies an event to a keyed collection only when it is newer than what the collection holds:
 * events of one entity arrive in commit order, but a replayed one may trail a live one.
 */
export function isNewer(current: { version?: number; updatedAt?: string } | undefined, next: { version?: number; updatedAt?: string }) {
  if (!current) return true;
  if (current.version !== undefined && next.version !== undefined) return next.version >= current.version;
  if (current.updatedAt && next.updatedAt) return next.updatedAt >= current.updatedAt;
  return true;
}
