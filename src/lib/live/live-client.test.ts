import { describe, expect, it } from 'vitest';
import type { LiveMeta, ServerToClientEvents } from '$shared/events.js';
import { LiveClient } from './live-client.js';

// What the live connection does with each event the server delivers (no socket: the events are
// handed to `deliver` as the socket's listeners hand them). A replay after a reconnect or a
// catch-up may send again what was applied: each seq reaches the screens once, in the order the
// events arrived.

type EventName = keyof ServerToClientEvents;
type Delivers = { deliver(event: EventName, payload: LiveMeta): void };

function clientSeeing(event: EventName) {
  const client = new LiveClient();
  const seen: number[] = [];
  client.on(event, (payload) => seen.push((payload as LiveMeta).seq));
  const deliver = (seq: number) =>
    (client as unknown as Delivers).deliver(event, { seq, horizon: `${seq}:${seq}:`, at: '' });
  return { seen, deliver };
}

describe("the live client's delivery", () => {
  it('applies events in the order they arrive and drops a seq it already applied', () => {
    const { seen, deliver } = clientSeeing('ticket:created');
    for (const seq of [5, 6, 5, 7, 6, 7, 8]) deliver(seq);
    expect(seen).toEqual([5, 6, 7, 8]);
  });

  it('applies a lower seq it has not seen: change_log ids commit out of order', () => {
    const { seen, deliver } = clientSeeing('order:created');
    for (const seq of [10, 12, 11, 12, 10, 11]) deliver(seq);
    expect(seen).toEqual([10, 12, 11]);
  });

  it('still drops a recent repeat after forgetting the oldest of very many seqs', () => {
    const { seen, deliver } = clientSeeing('order:created');
    for (let seq = 1; seq <= 25_000; seq++) deliver(seq);
    deliver(24_999);
    deliver(25_000);
    expect(seen).toHaveLength(25_000);
    expect(seen.at(-1)).toBe(25_000);
  });
});
