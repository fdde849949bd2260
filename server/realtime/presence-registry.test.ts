import { describe, expect, it } from 'vitest';
import { PresenceRegistry } from './presence-registry.js';

const ann = (tickets: [number, number, boolean?][]) => ({
  userId: 1,
  name: 'Ann',
  tickets: tickets.map(([ticketId, teamId, typing = false]) => ({ ticketId, teamId, typing }))
});
const bob = (tickets: [number, number, boolean?][]) => ({ ...ann(tickets), userId: 2, name: 'Bob' });

describe('PresenceRegistry', () => {
  it('lists one viewer per user across sockets and processes, typing if any of their sockets is', () => {
    const r = new PresenceRegistry();
    r.set('p1', 's1', bob([[7, 1]]));
    r.set('p1', 's2', ann([[7, 1]]));
    r.set('p2', 's1', ann([[7, 1, true]]));
    expect(r.viewers(7)).toEqual([
      { userId: 1, name: 'Ann', typing: true },
      { userId: 2, name: 'Bob', typing: false }
    ]);
  });

  it('names the tickets whose viewers changed, with their team, also when the last viewer leaves', () => {
    const r = new PresenceRegistry();
    expect([
      ...r.set(
        'p1',
        's1',
        ann([
          [7, 1],
          [8, 2]
        ])
      )
    ]).toEqual([
      [7, 1],
      [8, 2]
    ]);
    expect([
      ...r.set(
        'p1',
        's1',
        ann([
          [7, 1],
          [8, 2, true]
        ])
      )
    ]).toEqual([[8, 2]]);
    expect([
      ...r.set(
        'p1',
        's1',
        ann([
          [7, 1],
          [8, 2, true]
        ])
      )
    ]).toEqual([]);
    expect([...r.set('p1', 's1', null)]).toEqual([
      [7, 1],
      [8, 2]
    ]);
    expect(r.viewers(7)).toEqual([]);
    expect(r.list(() => true)).toEqual([]);
  });

  it('replaces a process’s sockets with a snapshot, and drops them all', () => {
    const r = new PresenceRegistry();
    r.set('p1', 'old', ann([[7, 1]]));
    r.set('p2', 'mine', bob([[7, 1]]));
    expect([...r.replaceNode('p1', [['new', ann([[9, 3]])]])].sort()).toEqual([
      [7, 1],
      [9, 3]
    ]);
    expect(r.socketsOf('p1').map(([id]) => id)).toEqual(['new']);
    expect(r.viewers(7).map((v) => v.name)).toEqual(['Bob']);
    expect([...r.dropNode('p1')]).toEqual([[9, 3]]);
    expect(r.list(() => true)).toEqual([
      { ticketId: 7, viewers: [{ userId: 2, name: 'Bob', typing: false }] }
    ]);
  });

  it('lists only the tickets of teams the reader may see', () => {
    const r = new PresenceRegistry();
    r.set(
      'p1',
      's1',
      ann([
        [7, 1],
        [8, 2]
      ])
    );
    expect(r.list((team) => team === 2).map((t) => t.ticketId)).toEqual([8]);
  });
});
