import { describe, expect, it } from 'vitest';
import { PresencePeers, type PresenceDelta } from './presence-peers.js';

const delta = (seq: number, node = 'p2'): PresenceDelta => ({
  node,
  seq,
  socketId: `s${seq}`,
  presence: null
});
const snapshot = (seq: number, ttl = 900, node = 'p2') => ({ node, seq, ttl, sockets: [] });
const seqs = (ds: PresenceDelta[]) => ds.map((d) => d.seq);

describe('PresencePeers', () => {
  it('applies a process’s deltas in order, holding back those that overtook a missing one', () => {
    const peers = new PresencePeers();
    expect(peers.snapshot(snapshot(3), 0)).toEqual({ replace: true, then: [] });
    expect(seqs(peers.delta(delta(5), 1).apply)).toEqual([]);
    expect(seqs(peers.delta(delta(4), 2).apply)).toEqual([4, 5]);
    expect(seqs(peers.delta(delta(4), 3).apply)).toEqual([]); // a duplicate
  });

  it('asks an unknown process for a snapshot, and applies what followed it once it arrives', () => {
    const peers = new PresencePeers();
    expect(peers.delta(delta(8), 0)).toEqual({ apply: [], askSnapshot: true });
    expect(peers.delta(delta(9), 1)).toEqual({ apply: [], askSnapshot: false }); // asked already
    const { replace, then } = peers.snapshot(snapshot(7), 2);
    expect(replace).toBe(true);
    expect(seqs(then)).toEqual([8, 9]);
    // An older snapshot (an answer to someone else's hello) changes nothing.
    expect(peers.snapshot(snapshot(6), 3)).toEqual({ replace: false, then: [] });
  });

  it('asks again when a delta announced by one heartbeat is still missing at the next', () => {
    const peers = new PresencePeers();
    peers.snapshot(snapshot(0, 900), 0);
    expect(peers.heartbeat({ node: 'p2', seq: 2, ttl: 900 }, 300)).toBe(false); // 1 and 2 may still be on their way
    peers.delta(delta(2), 310);
    expect(peers.heartbeat({ node: 'p2', seq: 2, ttl: 900 }, 600)).toBe(true); // 1 is lost
    expect(seqs(peers.delta(delta(3), 620).apply)).toEqual([]); // held until the snapshot
    expect(seqs(peers.snapshot(snapshot(2), 640).then)).toEqual([3]);
    expect(peers.heartbeat({ node: 'p2', seq: 3, ttl: 900 }, 900)).toBe(false);
  });

  it('lets a process whose lease ran out go, and treats it as new if it comes back', () => {
    const peers = new PresencePeers();
    peers.snapshot(snapshot(0, 900), 0);
    expect(peers.heartbeat({ node: 'p2', seq: 0, ttl: 900 }, 500)).toBe(false);
    expect(peers.expire(1300)).toEqual([]);
    expect(peers.expire(1401)).toEqual(['p2']);
    expect(peers.heartbeat({ node: 'p2', seq: 4, ttl: 900 }, 5000)).toBe(true);
  });
});
