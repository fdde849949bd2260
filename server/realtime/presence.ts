import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { SocketData } from '#shared/events.js';
import { rooms } from '#shared/rooms.js';
import { canViewTicket } from '../auth/policies.js';
import type { PulseServer } from './types.js';
import {
  PresencePeers,
  type PresenceDelta,
  type PresenceHeartbeat,
  type PresenceMessages,
  type PresenceSnapshot
} from './presence-peers.js';
import { mergeInto, PresenceRegistry, type Changed, type SocketPresence } from './presence-registry.js';
import { positiveId, socketUser } from './socket-auth.js';
import type { PulseSocket } from './types.js';

const TYPING_TIMEOUT_MS = 6_000;
/** How often a process renews its lease on its sockets' presence (PRESENCE_HEARTBEAT_MS). */
export const DEFAULT_HEARTBEAT_MS = 5_000;
/** Heartbeats a process may miss before the others forget its sockets: a crashed node's viewers go after about 15 s. */
const LEASE_HEARTBEATS = 3;

/** What a socket shows the cluster, from its own state (`socket.data` is where the hub and presence keep it). */
function presenceOf(data: SocketData): SocketPresence {
  const tickets = Object.entries(data.watching ?? {}).map(([id, teamId]) => ({
    ticketId: Number(id),
    teamId,
    typing: data.typing?.[Number(id)] === true
  }));
  return { userId: data.userId, name: data.name, tickets };
}

/**
 * Who is viewing a ticket and who is typing in it, kept per process. Each process files its own
 * sockets' presence in a registry and keeps a replica of every other process's, so `presence:list`
 * and `presence:changed` are answered from memory and never ask the cluster (`fetchSockets()`
 * would make every list or keystroke a request to every node).
 *
 * The replicas converge through `serverSideEmit` on the Socket.IO adapter: a numbered delta for
 * every socket whose presence changed, a snapshot when a process starts (and answers to its
 * hello), or when a delta went missing. Entries are held on a lease a heartbeat renews: a process
 * that crashes stops renewing, and the others drop its viewers when the lease runs out.
 */
export class Presence {
  /** This process in the cluster: new at every start, so a restarted process is a new one. */
  readonly node = randomUUID();
  private readonly registry = new PresenceRegistry();
  private readonly peers = new PresencePeers();
  /** Number of this process's last delta. */
  private seq = 0;
  private ttl = DEFAULT_HEARTBEAT_MS * LEASE_HEARTBEATS;
  /** Deltas go out between start() (the adapter is attached) and close(). */
  private sharing = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly typingTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly io: PulseServer,
    private readonly logger: Logger
  ) {
    const nsp = io.of('/');
    nsp.on('presence:delta', (delta) => this.receive('delta', () => this.onDelta(delta)));
    nsp.on('presence:snapshot', (snapshot) => this.receive('snapshot', () => this.onSnapshot(snapshot)));
    nsp.on('presence:heartbeat', (beat) => this.receive('heartbeat', () => this.onHeartbeat(beat)));
    nsp.on('presence:request', ({ of }) =>
      this.receive('request', () => of === this.node && this.send('presence:snapshot', this.snapshot()))
    );
    nsp.on('presence:bye', ({ node }) =>
      this.receive('bye', () => {
        this.peers.forget(node);
        this.tell(this.registry.dropNode(node));
      })
    );
  }

  /** Joins the cluster once the adapter is attached: says hello (with an empty snapshot) and starts renewing the lease. */
  start({ heartbeatMs = DEFAULT_HEARTBEAT_MS }: { heartbeatMs?: number } = {}) {
    this.ttl = heartbeatMs * LEASE_HEARTBEATS;
    this.sharing = true;
    this.send('presence:snapshot', { ...this.snapshot(), hello: true });
    this.heartbeat = setInterval(() => this.beat(), heartbeatMs);
    this.heartbeat.unref();
  }

  bind(socket: PulseSocket, canWatch: (ticketId: number) => Promise<number | null>) {
    socket.on('ticket:watch', async (rawId, ack) => {
      if (typeof ack !== 'function') return;
      const ticketId = positiveId(rawId);
      if (!ticketId)
        return ack({ error: { code: 'validation_failed', message: 'ticketId must be a positive integer' } });
      const teamId = await canWatch(ticketId).catch(() => null);
      if (teamId === null) return ack({ error: { code: 'not_found', message: 'Ticket not found' } });
      // Gone while the ticket was looked up: nothing to show.
      if (!socket.connected) return;
      socket.data.watching[ticketId] = teamId;
      await socket.join(rooms.ticket(ticketId));
      this.publish(socket);
      ack({ data: { viewers: this.registry.viewers(ticketId) } });
    });

    socket.on('presence:list', (ack) => {
      if (typeof ack !== 'function') return;
      const user = socketUser(socket.data);
      ack({ data: { tickets: this.registry.list((teamId) => canViewTicket(user, { teamId })) } });
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
      this.clearTypingTimer(socket.id, ticketId);
      if (typing) {
        // A client that stops sending (closed laptop) stops showing as typing.
        this.typingTimers.set(
          `${socket.id}:${ticketId}`,
          setTimeout(() => this.setTyping(socket, ticketId, false), TYPING_TIMEOUT_MS)
        );
      }
      this.setTyping(socket, ticketId, typing);
    });

    socket.on('disconnect', () => {
      for (const ticketId of Object.keys(socket.data.watching ?? {}))
        this.clearTypingTimer(socket.id, Number(ticketId));
      this.update(socket.id, null);
    });
  }

  unwatch(socket: PulseSocket, ticketId: number) {
    delete socket.data.watching[ticketId];
    delete socket.data.typing[ticketId];
    this.clearTypingTimer(socket.id, ticketId);
    void socket.leave(rooms.ticket(ticketId));
    this.publish(socket);
  }

  close() {
    clearInterval(this.heartbeat);
    if (this.sharing) this.send('presence:bye', { node: this.node });
    this.sharing = false;
    for (const t of this.typingTimers.values()) clearTimeout(t);
    this.typingTimers.clear();
  }

  // This process's sockets ----------------------------------------------------------------------

  private setTyping(socket: PulseSocket, ticketId: number, typing: boolean) {
    if (!!socket.data.typing[ticketId] === typing) return;
    if (typing) socket.data.typing[ticketId] = true;
    else delete socket.data.typing[ticketId];
    this.publish(socket);
  }

  private clearTypingTimer(socketId: string, ticketId: number) {
    const key = `${socketId}:${ticketId}`;
    clearTimeout(this.typingTimers.get(key));
    this.typingTimers.delete(key);
  }

  /** Files what `socket` shows now, if it changed. */
  private publish(socket: PulseSocket) {
    this.update(socket.id, socket.connected ? presenceOf(socket.data) : null);
  }

  /** Files a local socket's presence: this process's sockets are told now, the other processes by a numbered delta. */
  private update(socketId: string, presence: SocketPresence | null) {
    const changed = this.registry.set(this.node, socketId, presence);
    if (changed.size === 0) return;
    this.seq += 1;
    this.send('presence:delta', { node: this.node, seq: this.seq, socketId, presence });
    this.tell(changed);
  }

  /**
   * Every heartbeat: re-files local sockets whose state changed behind presence's back (the hub
   * moves a watcher to a ticket's new team), renews the lease and drops processes whose lease ran out.
   */
  private beat() {
    const local = this.io.of('/').sockets as Map<string, PulseSocket>;
    for (const [socketId] of this.registry.socketsOf(this.node))
      if (!local.has(socketId)) this.update(socketId, null);
    for (const socket of local.values()) this.publish(socket);
    this.send('presence:heartbeat', { node: this.node, seq: this.seq, ttl: this.ttl });
    for (const node of this.peers.expire(performance.now())) {
      this.logger.warn({ node }, 'a server process stopped renewing its presence; its viewers are dropped');
      this.tell(this.registry.dropNode(node));
    }
  }

  private snapshot(): PresenceSnapshot {
    return { node: this.node, seq: this.seq, ttl: this.ttl, sockets: this.registry.socketsOf(this.node) };
  }

  // Other processes -----------------------------------------------------------------------------

  private onDelta(delta: PresenceDelta) {
    const { apply, askSnapshot } = this.peers.delta(delta, performance.now());
    if (askSnapshot) this.send('presence:request', { node: this.node, of: delta.node });
    this.tell(this.applyDeltas(apply));
  }

  private onSnapshot(snapshot: PresenceSnapshot) {
    const { replace, then } = this.peers.snapshot(snapshot, performance.now());
    if (replace)
      this.tell(
        mergeInto(this.registry.replaceNode(snapshot.node, snapshot.sockets), this.applyDeltas(then))
      );
    if (snapshot.hello) this.send('presence:snapshot', this.snapshot());
  }

  private onHeartbeat(beat: PresenceHeartbeat) {
    if (this.peers.heartbeat(beat, performance.now()))
      this.send('presence:request', { node: this.node, of: beat.node });
  }

  private applyDeltas(deltas: PresenceDelta[]): Changed {
    const changed: Changed = new Map();
    for (const d of deltas) mergeInto(changed, this.registry.set(d.node, d.socketId, d.presence));
    return changed;
  }

  /** Tells this process's sockets the new viewers: the ticket's room, its team's queues and the managers. */
  private tell(changed: Changed) {
    for (const [ticketId, teamId] of changed) {
      this.io.local
        .to([rooms.ticket(ticketId), rooms.team(teamId), rooms.managers])
        .emit('presence:changed', { ticketId, viewers: this.registry.viewers(ticketId) });
    }
  }

  private send<E extends keyof PresenceMessages>(event: E, ...args: Parameters<PresenceMessages[E]>) {
    if (!this.sharing) return;
    try {
      (this.io.serverSideEmit as (e: E, ...a: Parameters<PresenceMessages[E]>) => boolean)(event, ...args);
    } catch (err) {
      this.logger.warn(
        { err: (err as Error).message, event },
        'presence could not reach the other processes'
      );
    }
  }

  /** A message from another process: one that cannot be applied is logged, never thrown into the adapter. */
  private receive(what: string, handle: () => unknown) {
    try {
      handle();
    } catch (err) {
      this.logger.warn(
        { err: (err as Error).message, what },
        'presence message from another process ignored'
      );
    }
  }
}
