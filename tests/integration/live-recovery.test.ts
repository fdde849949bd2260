import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { migrateDatabase } from '../../db/migrate.js';
import type { RunningPulse } from '../../server/pulse.js';
import { createWorld } from '../support/fixtures.js';
import { Browser, expectErrorShape } from '../support/http.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/postgres.js';
import { closeSockets, openSocket, record, until, type ClientSocket } from '../support/socket.js';
import { startTestServer } from '../support/server.js';

// This file restarts Postgres, so it runs its own embedded cluster rather than the shared one.
let embedded: ThrowawayPostgres;
let sql: pg.Pool;
let server: RunningPulse;
let socket: ClientSocket;
let world: Awaited<ReturnType<typeof createWorld>>;

beforeAll(async () => {
  embedded = await startThrowawayPostgres({ prefix: 'pulse-recovery-', fast: true });
  await migrateDatabase(embedded.url);
  sql = new pg.Pool({ connectionString: embedded.url, max: 6 });
  sql.on('error', () => undefined);
  world = await createWorld(sql);
  // Exactly-once is checked change by change, so the catch-up after the outage must not be
  // coalesced into a resync (tests/integration/live-delivery.test.ts covers that path).
  server = await startTestServer(embedded.url, { LIVE_BURST_LIMIT: '1000000' });
  socket = await openSocket(server.url, world.manager.email);
});

afterAll(async () => {
  closeSockets();
  await server?.close();
  await sql?.end();
  await embedded?.stop();
});

describe('recovery', () => {
  it(
    'after the listener connection is killed and Postgres restarts, every change arrives exactly once, in order per entity',
    { timeout: 90_000 },
    async () => {
      const { rows } = await sql.query(
        `INSERT INTO orders (customer_id, total) SELECT $1, 1 FROM generate_series(1, 10) RETURNING id`,
        [world.customerId]
      );
      const orderIds = rows.map((r) => r.id as number);
      const fromSeq = Number(
        (await sql.query(`SELECT coalesce(max(id), 0) AS id FROM change_log`)).rows[0].id
      );
      const received = record(socket, ['order:updated']);

      let writing = true;
      let failures = 0;
      const writers = Array.from({ length: 3 }, async (_, w) => {
        let i = 0;
        while (writing) {
          try {
            await sql.query(`UPDATE orders SET total = total + 1 WHERE id = $1`, [
              orderIds[(w + i++ * 3) % orderIds.length]
            ]);
          } catch {
            failures += 1; // Postgres is down: try again, as any outside program would
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      });
      const progress = async (n: number) => {
        const target = received.length + n;
        await until(() => received.length >= target, 10_000, `${n} more deliveries`);
      };

      await progress(50);
      const killed = await sql.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pulse-listener'`
      );
      expect(killed.rowCount).toBe(1);
      await progress(50);

      await embedded.restart();
      await progress(50); // the listener came back on its own and the writers resumed
      writing = false;
      await Promise.all(writers);
      expect(failures).toBeGreaterThan(0); // writes really did fail while Postgres was down

      const logged = (
        await sql.query(`SELECT id FROM change_log WHERE id > $1 AND topic = 'order' ORDER BY id`, [fromSeq])
      ).rows.map((r) => Number(r.id));
      await until(() => received.length >= logged.length, 10_000, 'every logged change delivered');
      const seqs = received.map((e) => e.payload.seq as number);
      expect(seqs.length).toBe(logged.length);
      expect([...seqs].sort((a, b) => a - b)).toEqual(logged);

      const lastSeen = new Map<number, number>();
      for (const e of received) {
        const id = e.payload.data.id as number;
        expect(Number(e.payload.data.total)).toBeGreaterThan(lastSeen.get(id) ?? 0);
        lastSeen.set(id, Number(e.payload.data.total));
      }
      // Changes keep flowing through the safety poll while the listener is still backing off, so
      // its reconnection is awaited on its own: health must report it connected again.
      const visitor = new Browser(server.url);
      await vi.waitFor(
        async () =>
          expect((await visitor.get('/api/health')).body).toMatchObject({ db: 'up', listener: 'connected' }),
        { timeout: 10_000, interval: 100 }
      );
    }
  );

  it(
    'while Postgres is down, requests answer 503 in the error shape with Retry-After (never 500), and work again once it is back',
    { timeout: 90_000 },
    async () => {
      const manager = await Browser.signedIn(server.url, world.manager.email);
      const { rows } = await sql.query<{ id: number; version: number }>(
        `INSERT INTO tickets (customer_id, team_id, subject) VALUES ($1, $2, 'Outage') RETURNING id, version`,
        [world.customerId, world.teamA]
      );
      await embedded.down();
      try {
        for (const [method, path, body] of [
          ['GET', '/api/tickets?view=all', undefined],
          ['PATCH', `/api/tickets/${rows[0].id}`, { version: rows[0].version, priority: 'high' }],
          ['GET', '/api/customers?limit=5', undefined],
          ['POST', '/api/auth/login', { email: world.agentA.email, password: 'whatever it is' }]
        ] as const) {
          const res = await manager.request(method, path, body);
          expect(res.status, `${method} ${path}`).toBe(503);
          expectErrorShape(res.body);
          expect(res.body.error.code).toBe('unavailable');
          expect(res.headers.get('retry-after')).toBe('5');
        }
      } finally {
        await embedded.up();
      }
      await vi.waitFor(async () => expect((await manager.get('/api/tickets?view=all')).status).toBe(200), {
        timeout: 20_000,
        interval: 200
      });
      const patched = await manager.request('PATCH', `/api/tickets/${rows[0].id}`, {
        version: rows[0].version,
        priority: 'high'
      });
      expect(patched.status).toBe(200);
    }
  );
});
