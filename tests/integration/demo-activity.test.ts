import { Writable } from 'node:stream';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateDatabase } from '../../db/migrate.js';
import { seedDemoData } from '../../db/seed/index.js';
import { hashPassword } from '../../server/auth/password.js';
import type { RunningPulse } from '../../server/pulse.js';
import { DemoActivity, holdsDemoData } from '../../server/services/demo-activity.js';
import type { OrderSummary, TicketSummary } from '#shared/schemas/live.js';
import type { Change } from '#shared/events.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { PASSWORD } from '../support/fixtures.js';
import { Browser, expectErrorShape } from '../support/http.js';
import { startThrowawayPostgres } from '../support/postgres.js';
import { startTestServer } from '../support/server.js';
import { closeSockets, openSocket, until, waitFor } from '../support/socket.js';

// The embedded demo's simulated activity: real rows through the real live path, paused and
// resumed over the API by managers only, and absent from servers that were not asked to run it.

/** Fast enough for a test: about twenty events a second. */
const INTERVAL_MS = 50;
let db: TestDatabase;
let passwordHash: string;
let demo: RunningPulse;
let plain: RunningPulse;
let manager: Browser;

beforeAll(async () => {
  passwordHash = await hashPassword(PASSWORD);
  db = await createTestDatabase();
  await seedDemoData(db.url, { customers: 60, passwordHash });
  demo = await startTestServer(db.url, {}, { demoActivity: { intervalMs: INTERVAL_MS, seed: 7 } });
  plain = await startTestServer(db.url);
  manager = await Browser.signedIn(demo.url, 'manager@pulse.demo');
}, 120_000);
afterAll(async () => {
  closeSockets();
  await demo?.close();
  await plain?.close();
  await db?.drop();
});

/** What simulated events leave behind: the change log's newest id and the rows they add. */
async function footprint() {
  const { rows } = await db.sql.query(
    `SELECT (SELECT coalesce(max(id), 0) FROM change_log)::text AS change_log,
            (SELECT count(*) FROM orders)::int AS orders,
            (SELECT count(*) FROM tickets)::int AS tickets,
            (SELECT count(*) FROM ticket_messages)::int AS messages,
            (SELECT count(*) FROM loyalty_ledger)::int AS ledger`
  );
  return rows[0] as Record<string, string | number>;
}

/** Polls `read` until it answers something other than `from` (or throws after `timeoutMs`). */
async function changed<T>(read: () => Promise<T>, from: T, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await read();
    if (JSON.stringify(now) !== JSON.stringify(from)) return now;
    if (Date.now() > deadline) throw new Error(`still ${JSON.stringify(from)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const status = async (browser: Browser) => browser.getOk('/api/demo-activity');
const put = (browser: Browser, body: unknown) => browser.request('PUT', '/api/demo-activity', body);

describe('demo activity', () => {
  it('says the generated demo is a database it may write into, and an empty one is not', async () => {
    expect(await holdsDemoData(db.url, pino({ level: 'silent' }))).toBe(true);
    const empty = await createTestDatabase();
    try {
      expect(await holdsDemoData(empty.url, pino({ level: 'silent' }))).toBe(false);
    } finally {
      await empty.drop();
    }
  });

  it(
    "writes orders and tickets that reach a manager's socket as live events",
    { timeout: 30_000 },
    async () => {
      const socket = await openSocket(demo.url, manager);
      const order = await waitFor<Change<OrderSummary>>(socket, 'order:created', () => true, 10_000);
      const ticket = await waitFor<Change<TicketSummary>>(socket, 'ticket:created', () => true, 20_000);
      // Nothing but the demo activity writes here: they are the simulator's rows.
      const { rows } = await db.sql.query(
        `SELECT attributes->>'source' AS source FROM orders WHERE id = $1`,
        [order.data.id]
      );
      expect(rows[0].source).toBe('simulator');
      const { rows: tickets } = await db.sql.query(`SELECT count(*)::int AS n FROM tickets WHERE id = $1`, [
        ticket.data.id
      ]);
      expect(tickets[0].n).toBe(1);

      const now = await status(manager);
      expect(now).toEqual({
        available: true,
        running: true,
        eventsPerMinute: 1200,
        events: expect.any(Number)
      });
      expect(now.events).toBeGreaterThan(0);
    }
  );

  it(
    'stops writing the moment a manager pauses it, and starts again on resume',
    { timeout: 30_000 },
    async () => {
      const paused = await put(manager, { running: false });
      expect(paused.status).toBe(200);
      expect(paused.body).toMatchObject({ available: true, running: false });

      // The pause answered after the event in hand committed: from here nothing may change, not
      // over ten intervals (each at most 1.2 x INTERVAL_MS), watched the whole time.
      const before = await footprint();
      const eventsBefore = (await status(manager)).events;
      expect(eventsBefore).toBe(paused.body.events);
      // At least four looks, however long a look takes on a loaded machine.
      const watchUntil = Date.now() + 10 * 1.2 * INTERVAL_MS;
      let looks = 0;
      while (Date.now() < watchUntil || looks < 4) {
        expect(await footprint()).toEqual(before);
        expect(await status(manager)).toMatchObject({ running: false, events: eventsBefore });
        looks++;
      }

      // The same footprint does move while it runs: the watch above could have seen a write.
      const resumed = await put(manager, { running: true });
      expect(resumed.status).toBe(200);
      expect(resumed.body).toMatchObject({ running: true });
      const after = await changed(footprint, before, 10_000);
      expect(Number(after.change_log)).toBeGreaterThan(Number(before.change_log));

      // Asking for the state it is already in changes nothing; each real change is audited once.
      expect((await put(manager, { running: true })).body).toMatchObject({ running: true });
      const { rows: audited } = await db.sql.query(
        `SELECT action, actor_user_id FROM audit_log WHERE action LIKE 'demo_activity.%' ORDER BY id`
      );
      expect(audited.map((r) => r.action)).toEqual(['demo_activity.paused', 'demo_activity.resumed']);
    }
  );

  it('shows its state to an agent, who cannot pause it', async () => {
    const agent = await Browser.signedIn(demo.url, 'agent@pulse.demo');
    expect(await status(agent)).toMatchObject({ available: true, running: true });
    const denied = await put(agent, { running: false });
    expect(denied.status).toBe(403);
    expectErrorShape(denied.body);
    expect(denied.body.error.code).toBe('forbidden');
    expect((await status(manager)).running).toBe(true);
  });

  it('answers only signed-in users', async () => {
    const anonymous = new Browser(demo.url);
    const res = await anonymous.get('/api/demo-activity');
    expect(res.status).toBe(401);
    expectErrorShape(res.body);
  });

  it('refuses bad bodies with 400 in the one error shape', async () => {
    for (const body of [{}, { running: 'no' }, { running: null }, [true], 'not json']) {
      const res = await put(manager, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expectErrorShape(res.body);
      expect(['validation_failed', 'bad_request']).toContain(res.body.error.code);
    }
    expect((await status(manager)).running).toBe(true);
  });

  it('is not available on a server that was not asked to run it', async () => {
    const browser = await Browser.signedIn(plain.url, 'manager@pulse.demo');
    expect(await status(browser)).toEqual({
      available: false,
      running: false,
      eventsPerMinute: 0,
      events: 0
    });
    const res = await put(browser, { running: true });
    expect(res.status).toBe(409);
    expectErrorShape(res.body);
    expect(res.body.error).toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(/no demo activity/)
    });
  });
});

describe('demo activity through a database outage', () => {
  it(
    'logs failed events while Postgres is down or its connection is killed, and writes again once it is back',
    { timeout: 90_000 },
    async () => {
      const cluster = await startThrowawayPostgres({ prefix: 'pulse-demo-outage-', fast: true });
      const lines: { level: number; msg: string }[] = [];
      const sink = new Writable({
        write(chunk, _encoding, done) {
          lines.push(JSON.parse(String(chunk)));
          done();
        }
      });
      const activity = new DemoActivity(cluster.url, pino({ level: 'info' }, sink), {
        intervalMs: 2,
        seed: 3
      });
      try {
        await migrateDatabase(cluster.url);
        await seedDemoData(cluster.url, { customers: 30, passwordHash });
        activity.resume();
        await until(() => activity.events >= 3, 10_000, 'events before the outage');

        await cluster.restart();
        const afterRestart = activity.events;
        await until(() => activity.events >= afterRestart + 3, 20_000, 'events after the outage');
        expect(activity.status.running).toBe(true);
        // One warning for the run of failures, one line when it recovered.
        expect(
          lines.filter((l) => l.level === 40 && /an event failed/.test(l.msg)).length
        ).toBeGreaterThanOrEqual(1);
        expect(lines.some((l) => l.level === 30 && /written again/.test(l.msg))).toBe(true);

        // Connections killed in the middle of an event (back to back, so one is nearly always in
        // hand): each event fails or commits, none takes the process down, and writing goes on.
        const sql = new pg.Client({ connectionString: cluster.url });
        await sql.connect();
        try {
          for (let i = 0; i < 20; i++) {
            const before = activity.events;
            await sql.query(
              `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pulse-demo-activity'`
            );
            await until(() => activity.events > before, 10_000, `an event after kill ${i + 1}`);
          }
        } finally {
          await sql.end();
        }
      } finally {
        await activity.close();
        await cluster.stop();
      }
    }
  );
});
