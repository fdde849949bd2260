import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isFurther, type BulkJob } from '#shared/schemas/bulk.js';
import type { RunningPulse } from '../../server/pulse.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createCustomer, createOrder, createUser, createWorld } from '../support/fixtures.js';
import { Browser, expectErrorShape } from '../support/http.js';
import { startChildServer } from '../support/processes.js';
import { startTestServer } from '../support/server.js';
import { closeSockets, openSocket, received, waitFor, type ClientSocket } from '../support/socket.js';

// Bulk actions over every row a filter matches, run by the server in batches: exactly the
// matching rows change, progress reaches the creator only, a cancel stops between batches, the
// console is never kept waiting, and a job survives its server.

const BATCH = 250;
const CONFIG = { BULK_BATCH_SIZE: String(BATCH), BULK_POLL_MS: '200' };

let db: TestDatabase;
let server: RunningPulse;
let world: Awaited<ReturnType<typeof createWorld>>;
let manager: Browser;
let managerSocket: ClientSocket;

const rows = async <T = any>(sql: string, params: unknown[] = []) =>
  (await db.sql.query(sql, params)).rows as T[];
const one = async <T = any>(sql: string, params: unknown[] = []) => (await rows<T>(sql, params))[0];

/** `n` customers with emails at `domain`, in one statement; their ids in order. */
async function seedCustomers(
  sql: pg.Pool,
  n: number,
  domain: string,
  tags: string[] = []
): Promise<number[]> {
  const { rows: ids } = await sql.query<{ id: number }>(
    `INSERT INTO customers (email, first_name, tags)
     SELECT 'c' || g || '@' || $2, 'Bulk', $3::text[] FROM generate_series(1, $1) g RETURNING id`,
    [n, domain, tags]
  );
  return ids.map((r) => r.id).sort((a, b) => a - b);
}

const emailContains = (text: string) => ({
  op: 'and' as const,
  rules: [{ field: 'email', operator: 'contains', value: text }]
});

const addVip = (domain: string, tag = 'vip') => ({
  entity: 'customers',
  action: 'add_tags',
  params: { tags: [tag] },
  selection: { filter: emailContains(domain) }
});

async function start(browser: Browser, body: unknown): Promise<BulkJob> {
  const res = await browser.post('/api/bulk', body);
  if (res.status !== 202) throw new Error(`POST /api/bulk: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.job as BulkJob;
}

// Jobs of thousands of rows: each test waits for its job's last event, and these deadlines are
// only the net for one that never comes (a loaded machine runs a 5,000-row job for tens of seconds).
vi.setConfig({ testTimeout: 180_000 });
const finished = (socket: ClientSocket, id: number, timeoutMs = 150_000) =>
  waitFor<BulkJob>(
    socket,
    'bulk:progress',
    (j) => j.id === id && ['done', 'cancelled', 'failed'].includes(j.state),
    timeoutMs
  );

/** Customers at `domain` make every update wait `ms` (a busy database, without sleeping in the test). */
async function slowDown(sql: pg.Pool, domain: string, ms: number) {
  await sql.query(`CREATE OR REPLACE FUNCTION test_slow_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_sleep(${ms / 1000}); RETURN NEW; END $$`);
  await sql.query(`CREATE OR REPLACE TRIGGER test_slow_update BEFORE UPDATE ON customers FOR EACH ROW
    WHEN (NEW.email LIKE '%@${domain}') EXECUTE FUNCTION test_slow_update()`);
}

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  server = await startTestServer(db.url, CONFIG);
  manager = await Browser.signedIn(server.url, world.manager.email);
  managerSocket = await openSocket(server.url, manager);
});
afterAll(async () => {
  closeSockets();
  await server?.close();
  await db?.drop();
});

describe('a bulk action over all matching rows', () => {
  it('tags exactly the 5,000 matching customers, in batches, and tells only its creator how it goes', async () => {
    const matching = await seedCustomers(db.sql, 5000, 'match.test');
    const others = await seedCustomers(db.sql, 600, 'other.test');
    const otherManager = await createUser(db.sql, { email: 'manager2@test.dev', role: 'manager' });
    const otherManagerSocket = await openSocket(server.url, otherManager.email);
    const agentSocket = await openSocket(server.url, world.agentA.email);

    const job = await start(manager, addVip('match.test'));
    expect(job).toMatchObject({ entity: 'customers', action: 'add_tags', state: 'queued', total: null });
    const done = await finished(managerSocket, job.id);
    expect(done).toMatchObject({
      state: 'done',
      total: 5000,
      processed: 5000,
      updated: 5000,
      skipped: 0,
      failed: 0
    });

    const tagged = await rows<{ id: number }>(
      `SELECT id FROM customers WHERE 'vip' = ANY (tags) ORDER BY id`
    );
    expect(tagged.map((r) => r.id)).toEqual(matching);
    const untouched = await one(
      `SELECT count(*)::int AS n, max(version) AS v FROM customers WHERE id = ANY ($1)`,
      [others]
    );
    expect(untouched).toEqual({ n: 600, v: 1 });

    // What the creator's tray shows, applying each event by the screen's own rule (a finished job
    // stays finished, progress never goes back): started, a step per batch, done. The job's row says
    // done a moment before its last event arrives: wait for that event.
    const progressOf = () => received<BulkJob>(managerSocket, 'bulk:progress').filter((e) => e.id === job.id);
    await expect.poll(() => progressOf().some((e) => e.state === 'done'), { timeout: 30_000 }).toBe(true);
    const events = progressOf();
    expect(events[0]).toMatchObject({ state: 'running', processed: 0, total: 5000 });
    let shown: BulkJob | undefined;
    const steps: BulkJob[] = [];
    for (const e of events)
      if (isFurther(e, shown)) {
        shown = e;
        steps.push(e);
      }
    expect(shown).toMatchObject({ state: 'done', processed: 5000 });
    expect(steps.length).toBeGreaterThanOrEqual(5000 / BATCH);
    expect(
      steps.filter((e) => e.state === 'running' && e.processed > 0).every((e) => e.processed % BATCH === 0)
    ).toBe(true);
    // Nobody else hears of it, not even another manager.
    expect(received(otherManagerSocket, 'bulk:progress')).toEqual([]);
    expect(received(agentSocket, 'bulk:progress')).toEqual([]);

    // A reload reads the same state.
    const again = await manager.getOk(`/api/bulk/${job.id}`);
    expect(again.job).toEqual(done);
    // Running it again changes nothing and says why.
    const twice = await finished(managerSocket, (await start(manager, addVip('match.test'))).id);
    expect(twice).toMatchObject({ updated: 0, skipped: 5000, reasons: { 'already had the tags': 5000 } });
  });

  it('writes one audit row for the job and one per batch naming the rows it changed', async () => {
    await seedCustomers(db.sql, 700, 'audit.test');
    const job = await start(manager, addVip('audit.test', 'audited'));
    await finished(managerSocket, job.id);
    const jobRows = await rows(
      `SELECT action, actor_user_id, details FROM audit_log
                                 WHERE target_type = 'bulk_job' AND target_id = $1 AND action <> 'bulk.batch'`,
      [String(job.id)]
    );
    expect(jobRows).toHaveLength(1);
    expect(jobRows[0]).toMatchObject({
      action: 'bulk.done',
      actor_user_id: world.manager.id,
      details: {
        entity: 'customers',
        action: 'add_tags',
        params: { tags: ['audited'] },
        selection: { filter: emailContains('audit.test') },
        total: 700,
        updated: 700,
        skipped: 0,
        failed: 0
      }
    });
    const batches = await rows<{ ids: number[] }>(
      `SELECT details->'ids' AS ids FROM audit_log WHERE action = 'bulk.batch' AND target_id = $1 ORDER BY id`,
      [String(job.id)]
    );
    expect(batches).toHaveLength(Math.ceil(700 / BATCH));
    const ids = batches.flatMap((b) => b.ids).sort((a, b) => a - b);
    const tagged = await rows<{ id: number }>(
      `SELECT id FROM customers WHERE 'audited' = ANY (tags) ORDER BY id`
    );
    expect(ids).toEqual(tagged.map((r) => r.id));
  });

  it('leaves alone rows that start matching after it started', async () => {
    await seedCustomers(db.sql, 1500, 'late.test');
    await slowDown(db.sql, 'late.test', 1);
    const job = await start(manager, addVip('late.test', 'early'));
    await waitFor<BulkJob>(managerSocket, 'bulk:progress', (j) => j.id === job.id && j.state === 'running');
    const late = await createCustomer(db.sql, 'late@late.test', 'Late');
    const done = await finished(managerSocket, job.id);
    expect(done).toMatchObject({ total: 1500, updated: 1500 });
    expect(await one(`SELECT tags FROM customers WHERE id = $1`, [late])).toEqual({ tags: [] });
  });
});

describe('cancelling', () => {
  it('stops between two batches and reports what was done', async () => {
    await seedCustomers(db.sql, 3000, 'cancel.test');
    await slowDown(db.sql, 'cancel.test', 1);
    const job = await start(manager, addVip('cancel.test', 'half'));
    await waitFor<BulkJob>(managerSocket, 'bulk:progress', (j) => j.id === job.id && j.processed > 0);
    const res = await manager.post(`/api/bulk/${job.id}/cancel`);
    expect(res.status).toBe(200);
    const cancelled = res.body.job as BulkJob;
    expect(cancelled.state).toBe('cancelled');
    expect(cancelled.processed).toBeGreaterThan(0);
    expect(cancelled.processed).toBeLessThan(3000);
    expect(cancelled.processed % BATCH).toBe(0);
    // What it reports is what happened, and nothing happens after it.
    const tagged = await one(`SELECT count(*)::int AS n FROM customers WHERE 'half' = ANY (tags)`);
    expect(tagged.n).toBe(cancelled.updated);
    const last = await finished(managerSocket, job.id);
    expect(last).toMatchObject({ state: 'cancelled', processed: cancelled.processed });
    expect(await one(`SELECT count(*)::int AS n FROM bulk_job_items WHERE job_id = $1`, [job.id])).toEqual({
      n: 0
    });
    expect(
      await one(
        `SELECT count(*)::int AS n FROM audit_log WHERE action = 'bulk.cancelled' AND target_id = $1`,
        [String(job.id)]
      )
    ).toEqual({ n: 1 });
    // Cancelling again answers the same finished job.
    expect((await manager.post(`/api/bulk/${job.id}/cancel`)).body.job).toMatchObject({ state: 'cancelled' });
  });
});

describe('the console keeps working during a bulk job', () => {
  it('is never kept waiting for more than a batch, and a row it holds is done later', async () => {
    // Every update sleeps 1 ms, so the rows left after the first 1,000 hold a job-long lock for
    // at least 5 s, whatever the machine's load, while one batch (250 rows) takes well under that.
    const ids = await seedCustomers(db.sql, 6000, 'console.test');
    await slowDown(db.sql, 'console.test', 1);
    // The console holds one row in an open transaction (an agent's edit in flight).
    const held = ids[100];
    const consoleTx = await db.sql.connect();
    await consoleTx.query('BEGIN');
    await consoleTx.query(`UPDATE customers SET language = 'fr' WHERE id = $1`, [held]);

    const job = await start(manager, addVip('console.test', 'busy'));
    // The job goes past the held row without waiting for it.
    await waitFor<BulkJob>(
      managerSocket,
      'bulk:progress',
      (j) => j.id === job.id && j.processed >= 1000,
      20_000
    );
    await consoleTx.query('COMMIT');
    consoleTx.release();

    // Meanwhile the console writes rows the job is working through: each waits at most for the
    // batch holding it (a second on a quiet machine; the net allows a loaded one three), never for
    // the job.
    const writes = ids.filter((_, i) => i % 97 === 0).slice(5, 15);
    for (const id of writes) {
      const c = await db.sql.connect();
      try {
        await c.query('BEGIN');
        await c.query(`SET LOCAL lock_timeout = '3s'`);
        await c.query(`UPDATE customers SET language = 'de' WHERE id = $1`, [id]);
        await c.query('COMMIT');
        c.release();
      } catch (err) {
        // A connection left in a failed transaction would fail the next test that borrows it.
        c.release(err as Error);
        throw err;
      }
    }

    const done = await finished(managerSocket, job.id);
    expect(done).toMatchObject({ state: 'done', total: 6000, updated: 6000, failed: 0 });
    expect(await one(`SELECT tags, language FROM customers WHERE id = $1`, [held])).toEqual({
      tags: ['busy'],
      language: 'fr'
    });
    expect(await rows(`SELECT language FROM customers WHERE id = ANY ($1)`, [writes])).toEqual(
      writes.map(() => ({ language: 'de' }))
    );
  });
});

describe('other actions', () => {
  it('sets a typed custom attribute, and refuses an unknown key or a value of the wrong type', async () => {
    await db.sql.query(
      `INSERT INTO custom_attribute_definitions (entity, key, label, type, options)
       VALUES ('customer', 'segment', 'Segment', 'choice', '{gold,silver}'), ('customer', 'score', 'Score', 'number', '{}')`
    );
    const ids = await seedCustomers(db.sql, 30, 'attr.test');
    const body = (params: unknown) => ({
      entity: 'customers',
      action: 'set_attribute',
      params,
      selection: { filter: emailContains('attr.test') }
    });
    const before = await one(`SELECT count(*)::int AS n FROM bulk_jobs`);
    for (const params of [
      { key: 'nope', value: 'x' },
      { key: 'segment', value: 'bronze' },
      { key: 'score', value: 'high' },
      { key: 'Bad Key', value: 1 }
    ]) {
      const res = await manager.post('/api/bulk', body(params));
      expect(res.status, JSON.stringify(params)).toBe(400);
      expectErrorShape(res.body);
    }
    expect(await one(`SELECT count(*)::int AS n FROM bulk_jobs`)).toEqual(before);

    const done = await finished(
      managerSocket,
      (await start(manager, body({ key: 'segment', value: 'gold' }))).id
    );
    expect(done).toMatchObject({ updated: 30 });
    const values = await rows(`SELECT attributes->>'segment' AS s FROM customers WHERE id = ANY ($1)`, [ids]);
    expect(values.every((v) => v.s === 'gold')).toBe(true);
  });

  it('marks paid orders fulfilled and counts the others as skipped, with why', async () => {
    const customer = await createCustomer(db.sql, 'orders@bulk.test');
    const paid = [await createOrder(db.sql, { customerId: customer, total: 10, status: 'paid' })];
    paid.push(await createOrder(db.sql, { customerId: customer, total: 11, status: 'paid' }));
    const pending = await createOrder(db.sql, { customerId: customer, total: 12 });
    const cancelled = await createOrder(db.sql, { customerId: customer, total: 13, status: 'cancelled' });
    const job = await start(manager, {
      entity: 'orders',
      action: 'mark_fulfilled',
      params: {},
      selection: { ids: [...paid, pending, cancelled] }
    });
    const done = await finished(managerSocket, job.id);
    expect(done).toMatchObject({
      updated: 2,
      skipped: 2,
      reasons: { 'not paid yet': 1, 'already cancelled': 1 }
    });
    expect(
      await rows(`SELECT status FROM orders WHERE id = ANY ($1) ORDER BY id`, [[...paid, pending, cancelled]])
    ).toEqual([
      { status: 'fulfilled' },
      { status: 'fulfilled' },
      { status: 'pending' },
      { status: 'cancelled' }
    ]);
  });

  it('sets products’ category and status', async () => {
    const { rows: cats } = await db.sql.query<{ id: number }>(
      `INSERT INTO categories (name) VALUES ('Bulk') RETURNING id`
    );
    const { rows: products } = await db.sql.query<{ id: number }>(
      `INSERT INTO products (sku, name, price) SELECT 'BULK-' || g, 'Bulk ' || g, 5 FROM generate_series(1, 40) g RETURNING id`
    );
    const ids = products.map((p) => p.id);
    const category = await start(manager, {
      entity: 'products',
      action: 'set_category',
      params: { categoryId: cats[0].id },
      selection: { ids }
    });
    expect(await finished(managerSocket, category.id)).toMatchObject({ updated: 40 });
    const status = await start(manager, {
      entity: 'products',
      action: 'set_status',
      params: { status: 'inactive' },
      selection: { ids }
    });
    expect(await finished(managerSocket, status.id)).toMatchObject({ updated: 40 });
    expect(
      await one(
        `SELECT count(*)::int AS n FROM products WHERE id = ANY ($1) AND category_id = $2 AND NOT active`,
        [ids, cats[0].id]
      )
    ).toEqual({ n: 40 });
    const unknown = await manager.post('/api/bulk', {
      entity: 'products',
      action: 'set_category',
      params: { categoryId: 999999 },
      selection: { ids }
    });
    expect(unknown.status).toBe(400);
  });

  it('exports the selection as a CSV file its creator downloads when it is done', async () => {
    await seedCustomers(db.sql, 600, 'export.test');
    const job = await start(manager, {
      entity: 'customers',
      action: 'export',
      params: {},
      selection: { filter: emailContains('export.test') }
    });
    const done = await finished(managerSocket, job.id);
    expect(done).toMatchObject({ state: 'done', total: 600, downloadUrl: `/api/bulk/${job.id}/export.csv` });
    const res = await fetch(new URL(done.downloadUrl!, server.url), { headers: { cookie: manager.cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    const bytes = Buffer.from(await res.arrayBuffer());
    // UTF-8 with a byte order mark, so Excel reads it as UTF-8.
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.subarray(3).toString('utf8').trim().split('\r\n');
    expect(lines).toHaveLength(601);
    expect(lines.slice(1).every((l) => l.includes('@export.test'))).toBe(true);
    // Someone else's export does not exist for them.
    const other = await Browser.signedIn(server.url, world.agentA.email);
    expect((await other.get(done.downloadUrl!)).status).toBe(404);
    expect((await other.get(`/api/bulk/${job.id}`)).status).toBe(404);
  });
});

describe('who may do what', () => {
  it('refuses bad requests with a 400 and changes nothing', async () => {
    const before = await one(`SELECT count(*)::int AS n FROM bulk_jobs`);
    for (const body of [
      { entity: 'customers', action: 'mark_fulfilled', params: {}, selection: { ids: [1] } },
      { entity: 'customers', action: 'add_tags', params: { tags: [] }, selection: { ids: [1] } },
      { entity: 'customers', action: 'add_tags', params: { tags: ['x'], extra: 1 }, selection: { ids: [1] } },
      {
        entity: 'customers',
        action: 'add_tags',
        params: { tags: ['x'] },
        selection: { filter: { op: 'and', rules: [{ field: 'nope', operator: 'is', value: 'x' }] } }
      },
      { entity: 'customers', action: 'add_tags', params: { tags: ['x'] }, selection: { ids: [] } },
      { entity: 'users', action: 'add_tags', params: { tags: ['x'] }, selection: {} },
      { entity: 'customers', action: 'drop_table', params: {}, selection: {} }
    ]) {
      const res = await manager.post('/api/bulk', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expectErrorShape(res.body);
    }
    expect(await one(`SELECT count(*)::int AS n FROM bulk_jobs`)).toEqual(before);
  });

  it('lets an agent tag a handful of picked customers, and nothing more', async () => {
    const agent = await Browser.signedIn(server.url, world.agentA.email);
    const ids = await seedCustomers(db.sql, 101, 'agent.test');
    const forbidden = [
      addVip('agent.test'),
      { entity: 'customers', action: 'add_tags', params: { tags: ['x'] }, selection: { ids } },
      { entity: 'customers', action: 'export', params: {}, selection: { ids: ids.slice(0, 3) } },
      { entity: 'orders', action: 'mark_fulfilled', params: {}, selection: { ids: [1] } }
    ];
    for (const body of forbidden)
      expect((await agent.post('/api/bulk', body)).status, JSON.stringify(body)).toBe(403);
    const agentSocket = await openSocket(server.url, agent);
    const job = await start(agent, {
      entity: 'customers',
      action: 'add_tags',
      params: { tags: ['picked'] },
      selection: { ids: ids.slice(0, 5) }
    });
    expect(await finished(agentSocket, job.id)).toMatchObject({ updated: 5 });
    // Their jobs are theirs; listing everyone's is for admins.
    expect((await agent.getOk('/api/bulk?mine=true')).jobs.map((j: BulkJob) => j.id)).toEqual([job.id]);
    expect((await agent.get('/api/bulk?mine=false')).status).toBe(403);
    const admin = await Browser.signedIn(server.url, world.admin.email);
    expect((await admin.getOk('/api/bulk?mine=false')).jobs.length).toBeGreaterThan(1);
    expect((await admin.getOk(`/api/bulk/${job.id}`)).job.id).toBe(job.id);
  });
});

describe('a job outlives its server', () => {
  it('continues from the ids it had not reached when its server died mid-batch', async () => {
    const own = await createTestDatabase();
    try {
      const people = await createWorld(own.sql);
      await seedCustomers(own.sql, 2000, 'crash.test');
      await slowDown(own.sql, 'crash.test', 1);
      const first = await startChildServer(own.url, {}, CONFIG);
      const creator = await Browser.signedIn(first.url, people.manager.email);
      const job = await start(creator, addVip('crash.test', 'survived'));
      const socket = await openSocket(first.url, creator);
      await waitFor<BulkJob>(
        socket,
        'bulk:progress',
        (j) => j.id === job.id && j.processed >= 2 * BATCH,
        20_000
      );
      process.kill(first.pid, 'SIGKILL');
      await first.stop();
      const halfway = (
        await own.sql.query(`SELECT state, processed, total FROM bulk_jobs WHERE id = $1`, [job.id])
      ).rows[0];
      expect(halfway.state).toBe('running');
      expect(halfway.processed).toBeLessThan(2000);

      // Another process (this one's Pulse serves the other database).
      const second = await startChildServer(own.url, {}, CONFIG);
      try {
        const watcher = await openSocket(second.url, people.manager.email);
        const done = await finished(watcher, job.id);
        expect(done).toMatchObject({ state: 'done', total: 2000, processed: 2000, updated: 2000, failed: 0 });
        // Every row once: the batches' audit rows name each id exactly once.
        const audited = (
          await own.sql.query<{ id: number }>(
            `SELECT jsonb_array_elements(details->'ids')::int AS id FROM audit_log WHERE action = 'bulk.batch' AND target_id = $1`,
            [String(job.id)]
          )
        ).rows.map((r) => r.id);
        expect(audited).toHaveLength(2000);
        expect(new Set(audited).size).toBe(2000);
        const tagged = await own.sql.query(
          `SELECT count(*)::int AS n FROM customers WHERE tags = ARRAY['survived'] AND email LIKE '%@crash.test'`
        );
        expect(tagged.rows[0].n).toBe(2000);
      } finally {
        await second.stop();
      }
    } finally {
      await own.drop();
    }
  });
});
