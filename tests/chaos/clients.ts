// Screens as the chaos run sees them: real socket.io clients through the balancer that resume the
// way the browser's live client does (src/lib/live/live-client.ts): reconnect by themselves, send
// the horizon of the last event applied and the rooms they watch, apply each seq once. Every
// frame is recorded raw, so duplicates and order are judged on what the server sent.
import { io, type Socket } from 'socket.io-client';
import {
  DELIVERED_EVENTS,
  type ClientToServerEvents,
  type HandshakeAuth,
  type LiveMeta,
  type ServerToClientEvents
} from '#shared/events.js';
import { rooms } from '#shared/rooms.js';
import { formatPosition, laterOf, parsePosition, type StreamPosition } from '#shared/stream-position.js';
import type { ListEntity } from '#shared/lists/query.js';

export type ClientKind = 'agent' | 'manager' | 'customer watcher';

export interface Frame {
  seq: number;
  event: string;
  /** Entity the event is about (`data.id`), for per-entity order. */
  entity: string | null;
  version: number | null;
  /** ms since epoch when it arrived. */
  arrived: number;
  /** False when the client dropped it as already applied (a replay resends the last read's changes). */
  applied: boolean;
  /** The change's write time on the database clock. */
  at: string;
}

export interface Identity {
  userId: number;
  teamId: number | null;
  manager: boolean;
  cookie: string;
}

/** As the browser: the seqs applied lately, so a resent change is applied once (live-client.ts). */
const REMEMBERED_SEQS = 20_000;

export class ChaosClient {
  readonly frames: Frame[] = [];
  /** Every seq ever applied (the oracle's view; the client itself remembers only the latest). */
  readonly applied = new Set<number>();
  private remembered = new Set<number>();
  /** The horizon of the first `live:ready`: the stream this client must see starts there. */
  firstHorizon: StreamPosition | null = null;
  private horizon: StreamPosition | null = null;
  readies = 0;
  resyncs: { reason: string; topics: string[] }[] = [];
  lastWallboard: unknown = null;
  private socket: Socket<ServerToClientEvents, ClientToServerEvents> | null = null;
  private readyWaiters: (() => void)[] = [];

  constructor(
    readonly id: number,
    readonly kind: ClientKind,
    readonly who: Identity,
    readonly watch: { tickets: number[]; customers: number[]; lists: ListEntity[]; wallboard: boolean }
  ) {}

  /** The rooms this client's socket is in: its access's, and the ones it watches. */
  get rooms(): Set<string> {
    const joined = [rooms.user(this.who.userId)];
    if (this.who.teamId !== null) joined.push(rooms.team(this.who.teamId));
    if (this.who.manager) joined.push(rooms.managers);
    for (const t of this.watch.tickets) joined.push(rooms.ticket(t));
    for (const c of this.watch.customers) joined.push(rooms.customer(c));
    for (const l of this.watch.lists) joined.push(rooms.list(l));
    return new Set(joined);
  }

  connect(baseUrl: string) {
    const socket = io(baseUrl, {
      path: '/socket.io',
      transports: ['websocket'],
      forceNew: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 3000,
      extraHeaders: { cookie: this.who.cookie, origin: new URL(baseUrl).origin },
      auth: (cb) => cb(this.handshake())
    }) as Socket<ServerToClientEvents, ClientToServerEvents>;
    this.socket = socket;
    socket.on('live:ready', ({ horizon }) => {
      this.readies += 1;
      this.firstHorizon ??= parsePosition(horizon);
      this.advance(horizon);
      if (this.watch.wallboard)
        socket.emit('wallboard:watch', (answer) => {
          if ('data' in answer) this.lastWallboard = answer.data;
        });
      for (const w of this.readyWaiters.splice(0)) w();
    });
    socket.on('live:resync', ({ reason, topics, horizon }) => {
      // The browser reloads the topics' screens, then moves on.
      this.resyncs.push({ reason, topics });
      this.advance(horizon);
    });
    socket.on('wallboard:updated', (snapshot) => {
      this.lastWallboard = snapshot;
    });
    // A handshake refused while a node starts is retried later, as the browser does.
    socket.on('connect_error', () => {
      if (!socket.active) setTimeout(() => this.socket === socket && socket.connect(), 1000);
    });
    for (const event of DELIVERED_EVENTS) {
      socket.on(event, (payload: LiveMeta) => this.deliver(event, payload));
    }
  }

  ready(timeoutMs = 30_000) {
    return new Promise<void>((resolve, reject) => {
      if (this.readies > 0 && this.socket?.connected) return resolve();
      const timer = setTimeout(() => reject(new Error(`client ${this.id} not ready`)), timeoutMs);
      this.readyWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The network drops under the socket (not a clean disconnect): it reconnects by itself. */
  drop() {
    this.socket?.io.engine?.close();
  }

  close() {
    this.socket?.disconnect();
    this.socket = null;
  }

  get connected() {
    return !!this.socket?.connected;
  }

  private handshake(): HandshakeAuth {
    return {
      ...(this.horizon ? { horizon: formatPosition(this.horizon) } : {}),
      watch: { tickets: this.watch.tickets, customers: this.watch.customers, lists: this.watch.lists }
    };
  }

  private deliver(event: string, payload: LiveMeta) {
    const data = (payload as { data?: { id?: number; version?: number } }).data;
    const customerId = (payload as { customerId?: number }).customerId;
    const id = data?.id ?? customerId ?? null;
    const fresh = !this.remembered.has(payload.seq);
    this.frames.push({
      seq: payload.seq,
      event,
      entity: id === null ? null : `${event.split(':')[0]}:${id}`,
      version: typeof data?.version === 'number' ? data.version : null,
      arrived: Date.now(),
      at: payload.at,
      applied: fresh
    });
    if (fresh) {
      this.remembered.add(payload.seq);
      this.applied.add(payload.seq);
      if (this.remembered.size > REMEMBERED_SEQS)
        this.remembered = new Set([...this.remembered].slice(-REMEMBERED_SEQS / 2));
    }
    this.advance(payload.horizon);
  }

  private advance(horizon: string) {
    const next = parsePosition(horizon);
    if (!next) return;
    this.horizon = this.horizon ? laterOf(this.horizon, next) : next;
  }
}
