import type pg from 'pg';
import { formatPosition, type StreamPosition } from '#shared/stream-position.js';
import { readBetween } from './change-reader.js';
import { emitOutgoing, route, routeAvailability, type Outgoing } from './routing.js';
import type { PulseSocket } from './types.js';

/** Most changes replayed to one socket before it is told to reload instead. */
export const REPLAY_LIMIT = 5000;
/** Replay queries running at once; a reconnect storm queues here, not ahead of live reads. */
const REPLAY_CONCURRENCY = 4;
/** Room of the sockets whose live events are held while they are replayed to. */
export const HELD_ROOM = 'pulse:held';

interface Hold {
  depth: number;
  buffer: Outgoing[];
  /** Set when the socket must reload after the hold (too much held, a burst, a gap): the topics to reload. */
  resync: { reason: 'retention' | 'burst'; topics: Set<string> } | null;
}

/** A counting semaphore: at most `limit` holders at once, the rest wait in order. */
class Semaphore {
  private active = 0;
  private waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
    try {
      return await task();
    } finally {
      this.active -= 1;
      this.waiting.shift()?.();
    }
  }
}

/**
 * Replays the changes a socket missed and splices them into its live stream exactly: while a
 * socket is held, the live events it would receive are buffered; the replay reads up to the
 * reader's cursor at that moment; then the buffer is flushed (minus what the replay already sent)
 * and the socket follows the live stream again. No event reaches the socket before an older one
 * of the replay, none is lost between the two, none is sent twice.
 */
export class Replayer {
  private readonly holds = new Map<string, Hold>();
  private readonly gate = new Semaphore(REPLAY_CONCURRENCY);

  constructor(
    /** Replays' own small pool: a storm of them never takes the live reader's connections. */
    private readonly pool: pg.Pool,
    /** The reader's cursor: where the live stream takes over. */
    private readonly position: () => StreamPosition | null,
    /** Resolves when the reader is between reads of a large backlog (see `ChangeReader.settled`). */
    private readonly settled: () => Promise<void>,
    /** Most live events held for one socket; past it the socket reloads instead. */
    private readonly bufferLimit = REPLAY_LIMIT
  ) {}

  /** Starts holding the socket's live events (nested holds are counted). */
  hold(socket: PulseSocket) {
    const hold = this.holds.get(socket.id);
    if (hold) {
      hold.depth += 1;
      return;
    }
    this.holds.set(socket.id, { depth: 1, buffer: [], resync: null });
    void socket.join(HELD_ROOM);
  }

  /** Ends one hold: at the last, sends what was held (minus `sent` seqs), or the resync it calls for. */
  release(socket: PulseSocket, horizon: string, sent: ReadonlySet<number> = new Set()) {
    const hold = this.holds.get(socket.id);
    if (!hold) return;
    hold.depth -= 1;
    if (hold.depth > 0) return;
    this.holds.delete(socket.id);
    void socket.leave(HELD_ROOM);
    if (!socket.connected) return;
    if (hold.resync) {
      socket.emit('live:resync', { reason: hold.resync.reason, topics: [...hold.resync.topics], horizon });
      return;
    }
    for (const out of hold.buffer) if (!sent.has(out.payload.seq)) emitOutgoing(socket, out);
  }

  get holding(): boolean {
    return this.holds.size > 0;
  }

  /** Called by the hub for each live event: keeps it for the held sockets in its rooms. */
  keep(out: Outgoing, sockets: (id: string) => PulseSocket | undefined) {
    for (const [id, hold] of this.holds) {
      const socket = sockets(id);
      if (!socket || !out.rooms.some((r) => socket.rooms.has(r))) continue;
      if (hold.resync) {
        hold.resync.topics.add(out.topic);
      } else if (hold.buffer.length >= this.bufferLimit) {
        hold.resync = { reason: 'burst', topics: new Set([...hold.buffer.map((o) => o.topic), out.topic]) };
        hold.buffer = [];
      } else {
        hold.buffer.push(out);
      }
    }
  }

  /** A held socket that must reload instead of being sent what was held. */
  resyncHeld(socketId: string, reason: 'retention' | 'burst', topics: Iterable<string>) {
    const hold = this.holds.get(socketId);
    if (!hold) return false;
    const all = new Set([...(hold.resync?.topics ?? []), ...hold.buffer.map((o) => o.topic), ...topics]);
    hold.resync = {
      reason: hold.resync?.reason === 'retention' ? 'retention' : reason,
      topics: reason === 'retention' ? new Set() : all
    };
    hold.buffer = [];
    return true;
  }

  isHeld(socketId: string): boolean {
    return this.holds.has(socketId);
  }

  /**
   * Sends a held socket every change after `from` it may see (by the rooms it is in now), up to
   * the live reader's cursor. Returns the seqs sent, or what to reload when the gap is too old
   * (retention) or too big.
   */
  async replay(
    socket: PulseSocket,
    from: StreamPosition
  ): Promise<{ sent: Set<number> } | { resync: 'retention' | 'burst' }> {
    return this.gate.run(async () => {
      // The socket is held already: what the reader hands on while we wait is kept for it.
      await this.settled();
      const upTo = this.position();
      // A client that went away while its replay queued (a storm of them gives up together) is not read for.
      if (!upTo || !socket.connected) return { sent: new Set<number>() };
      const found = await readBetween(this.pool, from, upTo, REPLAY_LIMIT);
      if (found.purged) return { resync: 'retention' as const };
      if (found.tooMany) return { resync: 'burst' as const };
      const sent = new Set<number>();
      if (!socket.connected) return { sent };
      const horizon = formatPosition(from);
      for (const row of found.rows) {
        // Access changes are applied where they happen; the availability they carry is replayed.
        const out =
          row.topic === 'user'
            ? routeAvailability(row, horizon)
            : row.topic === 'session'
              ? null
              : route(row, horizon);
        if (out && out.rooms.some((r) => socket.rooms.has(r))) {
          emitOutgoing(socket, out);
          sent.add(row.id);
        }
      }
      return { sent };
    });
  }
}
