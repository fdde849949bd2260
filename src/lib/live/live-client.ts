import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, LiveMeta, ServerToClientEvents } from '$shared/events.js';
import { live } from './connection.svelte.js';

type PulseSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
type EventName = keyof ServerToClientEvents;
type Payload<E extends EventName> = Parameters<ServerToClientEvents[E]>[0];

const REMEMBERED_SEQS = 20_000;

/**
 * The browser's one live connection. It resumes from the horizon of the last event it applied,
 * drops events it has already applied (a replay may resend some), and hands each event to the
 * screens subscribed to it. Screens reload what they show when told to resync.
 */
class LiveClient {
  private socket: PulseSocket | null = null;
  private horizon: string | undefined;
  private applied = new Set<number>();
  private handlers = new Map<EventName, Set<(payload: never) => void>>();
  private resyncHandlers = new Set<(topics: string[]) => void>();

  /** Opens the connection (once per signed-in session). */
  start(onUnauthenticated: () => void) {
    if (this.socket) return;
    live.set('connecting');
    const socket: PulseSocket = io({
      path: '/socket.io',
      transports: ['websocket'],
      // Evaluated at every (re)connect: the server replays what this client missed since.
      auth: (cb) => cb(this.horizon ? { horizon: this.horizon } : {}),
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000
    });
    this.socket = socket;

    socket.on('live:ready', ({ horizon }) => {
      this.advance(horizon);
      live.set('live');
    });
    socket.on('live:resync', ({ topics, horizon }) => {
      this.advance(horizon);
      for (const handler of this.resyncHandlers) handler(topics);
    });
    socket.on('disconnect', (reason) => {
      live.set(reason === 'io client disconnect' ? 'offline' : 'reconnecting');
      // The server ends a socket when its session ends: find out whether we are still signed in.
      if (reason === 'io server disconnect') onUnauthenticated();
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

  stop() {
    this.socket?.disconnect();
    this.socket = null;
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

  /** Sends a request that is answered through an ack, as a promise. */
  request<E extends 'ticket:watch' | 'customer:watch'>(event: E, id: number) {
    type Result = Parameters<Parameters<ClientToServerEvents[E]>[1]>[0];
    return new Promise<Result>((resolve) => {
      if (!this.socket) return resolve({ error: { code: 'offline', message: 'Not connected' } } as Result);
      (this.socket.emit as (e: string, ...args: unknown[]) => void)(event, id, resolve);
    });
  }

  /** Joins the wallboard room (managers); the ack carries the current numbers. Send again after a reconnect. */
  watchWallboard() {
    type Result = Parameters<Parameters<ClientToServerEvents['wallboard:watch']>[0]>[0];
    return new Promise<Result>((resolve) => {
      if (!this.socket) return resolve({ error: { code: 'offline', message: 'Not connected' } });
      this.socket.emit('wallboard:watch', resolve);
    });
  }

  /** Who is viewing which ticket now (the tickets this user may see). */
  listPresence() {
    type Result = Parameters<Parameters<ClientToServerEvents['presence:list']>[0]>[0];
    return new Promise<Result>((resolve) => {
      if (!this.socket?.connected) return resolve({ error: { code: 'offline', message: 'Not connected' } });
      this.socket.emit('presence:list', resolve);
    });
  }

  emit<E extends 'ticket:typing' | 'ticket:unwatch' | 'customer:unwatch' | 'wallboard:unwatch'>(event: E, ...args: Parameters<ClientToServerEvents[E]>) {
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
