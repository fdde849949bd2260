// What writes during a chaos run: the shop by plain SQL (the simulator: orders through their
// lifecycle, refunds, tickets and messages, loyalty), a manager through the API behind the
// balancer, and one writer that holds a transaction open for a long time. Writes fail while
// Postgres is down or a node is dead; they are counted, not fatal.
import type pg from 'pg';
import { setTimeout as delay } from 'node:timers/promises';
import { Simulator } from '../../db/simulate/simulator.js';
import type { Browser } from '../support/http.js';

export interface WriterStats {
  name: string;
  ok: number;
  failed: number;
  /** Status codes of failed API calls, counted. */
  statuses: Map<number, number>;
}

const stats = (name: string): WriterStats => ({ name, ok: 0, failed: 0, statuses: new Map() });

/** Runs `work` about `perSecond` times a second until `stop()` says so. */
async function paced(perSecond: number, stop: () => boolean, work: () => Promise<void>) {
  const gap = 1000 / perSecond;
  let next = Date.now();
  while (!stop()) {
    await work();
    next += gap;
    const wait = next - Date.now();
    if (wait > 0) await delay(wait);
    else next = Date.now();
  }
}

/** The shop and the warehouse, writing into Postgres directly. */
export async function sqlWriter(pool: pg.Pool, perSecond: number, stop: () => boolean, seed = 7) {
  const s = stats('sql (simulator)');
  const simulator = await Simulator.create(pool, seed);
  const done = paced(perSecond, stop, async () => {
    try {
      await simulator.step();
      s.ok++;
    } catch {
      s.failed++;
      // Postgres is away: do not spin.
      await delay(100);
    }
  });
  return { stats: s, done };
}

/**
 * A manager working tickets through the API: internal notes and priority changes on open
 * tickets. A 409 (someone else changed the ticket first) is an answer, not a failure.
 */
export function apiWriter(manager: Browser, perSecond: number, stop: () => boolean) {
  const s = stats('api (manager)');
  const priorities = ['low', 'normal', 'high', 'urgent'];
  let n = 0;
  const done = paced(perSecond, stop, async () => {
    n++;
    try {
      const queue = await manager.request('GET', '/api/tickets?view=all&limit=20');
      if (queue.status !== 200) throw Object.assign(new Error('queue'), { status: queue.status });
      const tickets = (queue.body as { tickets?: { id: number; version: number }[] }).tickets ?? [];
      if (tickets.length === 0) return;
      const t = tickets[n % tickets.length];
      const res =
        n % 2 === 0
          ? await manager.request('POST', `/api/tickets/${t.id}/messages`, {
              body: `Checked during the chaos run (${n})`,
              internal: true
            })
          : await manager.request('PATCH', `/api/tickets/${t.id}`, {
              version: t.version,
              priority: priorities[n % priorities.length]
            });
      if (res.status >= 400 && res.status !== 409)
        throw Object.assign(new Error('write'), { status: res.status });
      s.ok++;
    } catch (err) {
      s.failed++;
      const status = (err as { status?: number }).status ?? 0;
      s.statuses.set(status, (s.statuses.get(status) ?? 0) + 1);
      await delay(100);
    }
  });
  return { stats: s, done };
}

/**
 * One transaction that writes an order and a ticket message, then stays open for `holdMs` while
 * everyone else writes and commits: its changes must arrive when it commits, and nothing else may
 * wait for it.
 */
export async function longTransaction(pool: pg.Pool, holdMs: number): Promise<{ committed: boolean }> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO orders (customer_id, total, status, attributes)
       SELECT id, 42, 'pending', '{"source":"chaos-long-transaction"}' FROM customers ORDER BY id LIMIT 1`
    );
    await delay(holdMs);
    await client.query('COMMIT');
    return { committed: true };
  } catch {
    await client.query('ROLLBACK').catch(() => undefined);
    return { committed: false };
  } finally {
    client.release();
  }
}
