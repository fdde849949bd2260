import type { SocketPresence } from './presence-registry.js';

/** One socket's new presence (`null`: gone), numbered by the process that holds it. */
export interface PresenceDelta {
  node: string;
  seq: number;
  socketId: string;
  presence: SocketPresence | null;
}

/** Everything one process's sockets show, as of its delta `seq`; valid for `ttl` ms unless renewed. */
export interface PresenceSnapshot {
  node: string;
  seq: number;
  ttl: number;
  sockets: [string, SocketPresence][];
  /** Sent by a process that just started: every other process answers with its own snapshot. */
  hello?: boolean;
}

/** "I am alive, my last delta is `seq`, keep my entries for `ttl` ms more." */
export interface PresenceHeartbeat {
  node: string;
  seq: number;
  ttl: number;
}

/** What server processes send each other about presence (Socket.IO `serverSideEmit`). */
export interface PresenceMessages {
  'presence:snapshot': (snapshot: PresenceSnapshot) => void;
  'presence:delta': (delta: PresenceDelta) => void;
  'presence:heartbeat': (beat: PresenceHeartbeat) => void;
  /** `node` asks process `of` for a snapshot. */
  'presence:request': (request: { node: string; of: string }) => void;
  /** A process that shuts down: forget its sockets now rather than when its lease runs out. */
  'presence:bye': (bye: { node: string }) => void;
}

/** Used until a process has told us its own lease. */
const DEFAULT_TTL_MS = 15_000;
/** Deltas held back waiting for a missing one; past this, ask for a snapshot instead. */
const MAX_PENDING = 1_000;

interface Peer {
  /** Every delta up to this one has been applied (meaningful once synced). */
  applied: number;
  /** Deltas that arrived ahead of a missing one, by seq. */
  pending: Map<number, PresenceDelta>;
  /** A snapshot has been applied: `applied` is a real position in the peer's stream. */
  synced: boolean;
  /** The peer's seq at its previous heartbeat: by the next one, everything up to it should have arrived. */
  announced: number;
  ttl: number;
  expiresAt: number;
  /** When we last asked it for a snapshot (we ask at most once a third of its lease). */
  askedAt: number;
}

/**
 * Bookkeeping for the replicas of other processes' presence: applies each process's deltas in
 * order (the adapters may reorder messages: several connections, attachments fetched later),
 * notices a gap that outlives a heartbeat, an unknown process, or one whose lease ran out.
 * It decides; presence.ts sends and applies. Times are `performance.now()` milliseconds, passed in.
 */
export class PresencePeers {
  private readonly peers = new Map<string, Peer>();

  /** A delta arrived. Returns the deltas now ready to apply, in order, and whether to ask for a snapshot. */
  delta(delta: PresenceDelta, now: number): { apply: PresenceDelta[]; askSnapshot: boolean } {
    const peer = this.peer(delta.node, now);
    if (peer.synced && delta.seq <= peer.applied) return { apply: [], askSnapshot: false };
    peer.pending.set(delta.seq, delta);
    if (peer.pending.size > MAX_PENDING) {
      peer.pending.clear();
      peer.synced = false;
    }
    if (!peer.synced) return { apply: [], askSnapshot: this.ask(peer, now) };
    return { apply: this.drain(peer), askSnapshot: false };
  }

  /**
   * A snapshot arrived. Returns whether to replace the process's sockets with it (not when we are
   * already past it) and the held-back deltas that follow it.
   */
  snapshot(snapshot: PresenceSnapshot, now: number): { replace: boolean; then: PresenceDelta[] } {
    const peer = this.peer(snapshot.node, now, snapshot.ttl);
    if (peer.synced && snapshot.seq <= peer.applied) return { replace: false, then: [] };
    peer.synced = true;
    peer.applied = snapshot.seq;
    peer.announced = Math.max(peer.announced, snapshot.seq);
    for (const seq of peer.pending.keys()) if (seq <= snapshot.seq) peer.pending.delete(seq);
    return { replace: true, then: this.drain(peer) };
  }

  /** A heartbeat arrived: renew the lease. Returns whether to ask for a snapshot. */
  heartbeat(beat: PresenceHeartbeat, now: number): boolean {
    const peer = this.peer(beat.node, now, beat.ttl);
    // A delta announced a heartbeat ago that still has not arrived is lost, not late.
    const behind = !peer.synced || peer.applied < peer.announced;
    peer.announced = Math.max(peer.announced, beat.seq);
    if (!behind) return false;
    if (peer.synced) peer.synced = false;
    return this.ask(peer, now);
  }

  /** Processes whose lease ran out; they are forgotten here, the caller drops their sockets. */
  expire(now: number): string[] {
    const gone: string[] = [];
    for (const [node, peer] of this.peers) {
      if (now > peer.expiresAt) {
        gone.push(node);
        this.peers.delete(node);
      }
    }
    return gone;
  }

  forget(node: string) {
    this.peers.delete(node);
  }

  private peer(node: string, now: number, ttl?: number): Peer {
    let peer = this.peers.get(node);
    if (!peer) {
      peer = {
        applied: 0,
        pending: new Map(),
        synced: false,
        announced: 0,
        ttl: DEFAULT_TTL_MS,
        expiresAt: 0,
        askedAt: -Infinity
      };
      this.peers.set(node, peer);
    }
    if (ttl !== undefined && Number.isFinite(ttl) && ttl > 0) peer.ttl = ttl;
    peer.expiresAt = now + peer.ttl;
    return peer;
  }

  private ask(peer: Peer, now: number): boolean {
    if (now - peer.askedAt < peer.ttl / 3) return false;
    peer.askedAt = now;
    return true;
  }

  private drain(peer: Peer): PresenceDelta[] {
    const ready: PresenceDelta[] = [];
    for (let next = peer.pending.get(peer.applied + 1); next; next = peer.pending.get(peer.applied + 1)) {
      peer.pending.delete(next.seq);
      peer.applied = next.seq;
      ready.push(next);
    }
    return ready;
  }
}
