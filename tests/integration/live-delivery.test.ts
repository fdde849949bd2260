import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { RunningPulse } from '../../server/pulse.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createOrder, createTicket, createWorld } from '../support/fixtures.js';
import { Browser } from '../support/http.js';
import { closeSockets, openSocket, record, until, waitFor } from '../support/socket.js';
import { startTestServer } from '../support/server.js';

let db: TestDatabase;
let server: RunningPulse;
let world: Awaited<ReturnType<typeof createWorld>>;
/** One session per user; no test here ends one. */
let as: Record<'agentA' | 'agentB' | 'manager', Browser>;

const socketFor = (who: keyof typeof as) => openSocket(server.url, as[who]);

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  server = await startTestServer(db.url);
  const [agentA, agentB, manager] = await Promise.all(
    [world.agentA, world.agentB, world.manager].map((u) => Browser.signedIn(server.url, u.email))
  );
  as = { agentA, agentB, manager };
});
afterAll(async () => {
  closeSockets();
  await server?.close();
  await db?.drop();
});

describe('a change made by plain SQL', () => {
  it('reaches the team that may see it, and not another team', async () => {
    const agentA = await socketFor('agentA');
    const agentB = await socketFor('agentB');
    const seenByB = record(agentB, ['ticket:created', 'ticket:updated', 'ticket:message_added']);

    const committedAt = Date.now();
    const ticketA = await createTicket(db.sql, {
      customerId: world.customerId,
      teamId: world.teamA,
      subject: 'Team A only'
    });
    const created = await waitFor(agentA, 'ticket:created', (e) => e.data.id === ticketA);
    expect(Date.now() - committedAt).toBeLessThan(1000);
    expect(created.data).toMatchObject({ subject: 'Team A only', teamId: world.teamA, status: 'new' });
    expect(created.seq).toBeGreaterThan(0);

    await db.sql.query(
      `INSERT INTO ticket_messages (ticket_id, author_type, body) VALUES ($1, 'customer', 'Hello?')`,
      [ticketA]
    );
    await waitFor(agentA, 'ticket:message_added', (e) => e.data.ticketId === ticketA);

    // A fence: once B has its own team's change, A's earlier changes would have arrived too.
    const ticketB = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamB });
    await waitFor(agentB, 'ticket:created', (e) => e.data.id === ticketB);
    expect(
      seenByB.filter((e) => e.payload.data.id === ticketA || e.payload.data.ticketId === ticketA)
    ).toEqual([]);
  });

  it('carries the previous values of what changed', async () => {
    const manager = await socketFor('manager');
    const ticket = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
    await waitFor(manager, 'ticket:created', (e) => e.data.id === ticket);
    await db.sql.query(`UPDATE tickets SET priority = 'urgent', version = version + 1 WHERE id = $1`, [
      ticket
    ]);
    const updated = await waitFor(manager, 'ticket:updated', (e) => e.data.id === ticket);
    expect(updated.data.priority).toBe('urgent');
    expect(updated.old).toMatchObject({ priority: 'normal', version: 1 });
  });
});

describe('out-of-order commits', () => {
  it('delivers a lower id that commits after a higher one', async () => {
    const manager = await socketFor('manager');
    const events = record(manager, ['order:created']);
    const early = await db.sql.connect();
    const late = await db.sql.connect();
    try {
      await early.query('BEGIN');
      const first = await createOrder(early, { customerId: world.customerId, total: 10 });
      await late.query('BEGIN');
      const second = await createOrder(late, { customerId: world.customerId, total: 20 });
      expect(second).toBeGreaterThan(first);
      await late.query('COMMIT');
      await waitFor(manager, 'order:created', (e) => e.data.id === second);
      await early.query('COMMIT');
      await waitFor(manager, 'order:created', (e) => e.data.id === first);
      const ids = events.map((e) => e.payload.data.id);
      expect(ids.filter((id) => id === first)).toHaveLength(1);
      expect(ids.filter((id) => id === second)).toHaveLength(1);
    } finally {
      for (const c of [early, late]) {
        await c.query('ROLLBACK').catch(() => undefined);
        c.release();
      }
    }
  });
});

describe('a long write transaction', () => {
  it(
    'does not hold back other changes, and its own arrive when it commits',
    { timeout: 60_000 },
    async () => {
      const manager = await socketFor('manager');
      const importer = await db.sql.connect();
      try {
        await importer.query('BEGIN');
        const heldId = await createOrder(importer, {
          customerId: world.customerId,
          total: 99,
          externalId: 'IMPORT-1'
        });
        const heldEvents = record(manager, ['order:created']);

        // For 30 s while the import is open, other writers' changes keep arriving, each one
        // before the import commits (they are not held back behind it), typically within a second.
        const lags: number[] = [];
        const until30s = Date.now() + 30_000;
        while (Date.now() < until30s) {
          const t0 = Date.now();
          const id = await createOrder(db.sql, { customerId: world.customerId, total: 5 });
          await waitFor(manager, 'order:created', (e) => e.data.id === id, 5000);
          lags.push(Date.now() - t0);
          await new Promise((r) => setTimeout(r, 400)); // pacing the writer, not waiting for a result
        }
        expect(lags.length).toBeGreaterThan(15);
        const sorted = [...lags].sort((a, b) => a - b);
        expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(1000);
        expect(heldEvents.some((e) => e.payload.data.id === heldId)).toBe(false);

        await importer.query('COMMIT');
        const arrived = await waitFor(manager, 'order:created', (e) => e.data.id === heldId, 5000);
        expect(arrived.data.externalId).toBe('IMPORT-1');
      } finally {
        await importer.query('ROLLBACK').catch(() => undefined); // never hand back an open transaction
        importer.release();
      }
    }
  );
});

describe('concurrent writers', () => {
  it(
    '8 writers for 10 s: every change_log row reaches a listening client exactly once',
    { timeout: 60_000 },
    async () => {
      // Every change is checked one by one, so this server never coalesces a read into a resync,
      // however far a loaded machine lets it fall behind (the burst test below covers that path).
      const exact = await startTestServer(db.url, { LIVE_BURST_LIMIT: '1000000' });
      onTestFinished(() => exact.close());
      const manager = await openSocket(exact.url, as.manager);
      const { rows: seed } = await db.sql.query(
        `INSERT INTO orders (customer_id, total) SELECT $1, 1 FROM generate_series(1, 64) RETURNING id`,
        [world.customerId]
      );
      const orderIds = seed.map((r) => r.id as number);
      const { rows: mark } = await db.sql.query(`SELECT coalesce(max(id), 0) AS id FROM change_log`);
      const fromSeq = Number(mark[0].id);
      const received = record(manager, ['order:updated', 'order:created']);

      const stopAt = Date.now() + 10_000;
      let writes = 0;
      await Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          const client = await db.sql.connect();
          try {
            let i = 0;
            while (Date.now() < stopAt) {
              const id = orderIds[(w * 8 + (i++ % 8)) % orderIds.length];
              await client.query(`UPDATE orders SET total = total + 1 WHERE id = $1`, [id]);
              writes += 1;
            }
          } finally {
            client.release();
          }
        })
      );
      const { rows: logged } = await db.sql.query(
        `SELECT id FROM change_log WHERE id > $1 AND topic = 'order' ORDER BY id`,
        [fromSeq]
      );
      const expected = logged.map((r) => Number(r.id));
      expect(expected.length).toBe(writes);
      await until(
        () =>
          new Set(received.map((e) => e.payload.seq).filter((seq) => seq > fromSeq)).size >= expected.length,
        10_000,
        'all changes delivered'
      );
      const seqs = received.map((e) => e.payload.seq as number).filter((s) => s > fromSeq);
      expect(seqs.length).toBe(expected.length); // none twice
      expect([...seqs].sort((a, b) => a - b)).toEqual(expected); // none missing

      // Per order, updates arrive in commit order: totals only ever go up.
      const lastTotal = new Map<number, number>();
      for (const e of received) {
        const prev = lastTotal.get(e.payload.data.id) ?? 0;
        expect(Number(e.payload.data.total)).toBeGreaterThan(prev);
        lastTotal.set(e.payload.data.id, Number(e.payload.data.total));
      }
    }
  );
});

describe('the doorbell', () => {
  it(
    'falls silent while writers stream changes, and rings again for a lone change afterwards',
    { timeout: 150_000 },
    async () => {
      const manager = await socketFor('manager');
      const bells = await db.sql.connect();
      let rung = 0;
      bells.on('notification', () => (rung += 1));
      await bells.query('LISTEN crm_change');
      let writing = true;
      let writers: Promise<void>[] = [];
      try {
        const { rows: seed } = await db.sql.query(
          `INSERT INTO orders (customer_id, total) SELECT $1, 1 FROM generate_series(1, 4) RETURNING id`,
          [world.customerId]
        );
        let commits = 0;
        writers = seed.map(async ({ id }) => {
          while (writing) {
            await db.sql.query(`UPDATE orders SET total = total + 1 WHERE id = $1`, [id]);
            commits += 1;
          }
        });
        // Once the listener follows the stream, commits stop paying for NOTIFY.
        // (Nets, not rates: four writers on a loaded machine commit a few dozen times a second.)
        await until(() => commits >= 300, 60_000, 'the stream to start');
        const [bellsBefore, commitsBefore] = [rung, commits];
        await until(() => commits >= commitsBefore + 1000, 60_000, '1000 more commits');
        const ringsPerCommit = (rung - bellsBefore) / (commits - commitsBefore);
        writing = false;
        await Promise.all(writers);
        expect(ringsPerCommit).toBeLessThan(0.02);

        // The stream has stopped: the listener gives the doorbell back (its shared hold on the
        // doorbell's advisory lock goes away), and a lone change rings it and is delivered.
        const held = async () =>
          (
            await db.sql.query(
              `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND mode = 'ShareLock'`
            )
          ).rowCount! > 0;
        await expect.poll(held, { timeout: 5000, interval: 20 }).toBe(false);
        const before = rung;
        const lone = await createOrder(db.sql, { customerId: world.customerId, total: 5 });
        await waitFor(manager, 'order:created', (e) => e.data.id === lone);
        await until(() => rung > before, 1000, 'the doorbell to ring');
      } finally {
        // Writers left running would write into the next tests (and past the pool's end).
        writing = false;
        await Promise.allSettled(writers);
        await bells.query('UNLISTEN *');
        bells.release();
      }
    }
  );
});

describe('bursts', () => {
  it('a transaction touching thousands of rows sends one resync, not thousands of frames', async () => {
    const manager = await socketFor('manager');
    const orders = record(manager, ['order:created', 'order:updated']);
    const resync = waitFor(manager, 'live:resync', (e) => e.reason === 'burst');
    await db.sql.query(`INSERT INTO orders (customer_id, total) SELECT $1, 3 FROM generate_series(1, 5000)`, [
      world.customerId
    ]);
    const info = await resync;
    expect(info.topics).toContain('order');
    // Afterwards, ordinary changes flow again one by one.
    const after = await createOrder(db.sql, { customerId: world.customerId, total: 7 });
    await waitFor(manager, 'order:created', (e) => e.data.id === after);
    expect(orders.length).toBeLessThan(50);
  });
});
