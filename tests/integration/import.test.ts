import iconv from 'iconv-lite';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportJob, ImportOptions, ImportPreview } from '#shared/schemas/imports.js';
import { STARTING_PROGRAM, type ProgramConfig } from '#shared/schemas/loyalty-program.js';
import type { RunningPulse } from '../../server/pulse.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createCustomer, createWorld } from '../support/fixtures.js';
import { Browser, expectErrorShape } from '../support/http.js';
import { startTestServer } from '../support/server.js';
import { closeSockets, openSocket, waitFor, type ClientSocket } from '../support/socket.js';

// Imports through the API, as the screen does them: upload (streamed), detection and preview, dry
// run, run in batches on the server with progress over the socket, rejects with line, column and
// reason, the failed rows as a CSV, and the same file again changing nothing.

const BATCH = 50;

let db: TestDatabase;
let server: RunningPulse;
let manager: Browser;
let socket: ClientSocket;

const one = async <T = any>(sql: string, params: unknown[] = []) =>
  (await db.sql.query(sql, params)).rows[0] as T;
const changeLogSize = async () =>
  Number((await one<{ n: string }>(`SELECT count(*) AS n FROM change_log`)).n);

/** A file sent as the screen sends it: the raw bytes as the body, on a connection of its own. */
/** `merged` merged into `survivor`, as the merge leaves them (an alias, a frozen row). */
async function mergeInto(merged: number, survivor: number) {
  await db.sql.query(`INSERT INTO customer_aliases (alias_id, customer_id) VALUES ($1, $2)`, [
    merged,
    survivor
  ]);
  await db.sql.query(`UPDATE customers SET merged_into = $2, merged_at = now() WHERE id = $1`, [
    merged,
    survivor
  ]);
}

function upload(entity: string, name: string, body: Buffer | string, as = manager) {
  const url = new URL(`/api/imports/uploads?entity=${entity}&name=${encodeURIComponent(name)}`, server.url);
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return new Promise<{ status: number; body: { preview: ImportPreview } & Record<string, any> }>(
    (resolve, reject) => {
      const req = http.request(
        url,
        {
          method: 'POST',
          agent: false,
          headers: {
            origin: as.origin,
            cookie: as.cookie,
            'content-type': 'application/octet-stream',
            'content-length': bytes.length
          }
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString()) })
          );
        }
      );
      req.on('error', reject);
      req.end(bytes);
    }
  );
}

async function uploaded(entity: string, name: string, body: Buffer | string): Promise<ImportPreview> {
  const res = await upload(entity, name, body);
  if (res.status !== 201) throw new Error(`upload: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.preview;
}

/** Starts a job and waits for its last progress event on the manager's socket. */
async function run(
  preview: ImportPreview,
  dryRun = false,
  options: ImportOptions = preview.options
): Promise<ImportJob> {
  const res = await manager.post('/api/imports', { uploadId: preview.uploadId, dryRun, options });
  if (res.status !== 202) throw new Error(`start: ${res.status} ${JSON.stringify(res.body)}`);
  const job = res.body.job as ImportJob;
  expect(job.state).toBe('queued');
  return waitFor<ImportJob>(
    socket,
    'import:progress',
    (j) => j.id === job.id && ['done', 'failed'].includes(j.state),
    60_000
  );
}

const customersCsv = (n: number, from = 1, extra = '') =>
  'Email;First name;Last name;Tags\n' +
  Array.from({ length: n }, (_, i) => `user${from + i}@import.test;User${from + i};Imported;vip|new`).join(
    '\n'
  ) +
  '\n' +
  extra;

beforeAll(async () => {
  db = await createTestDatabase();
  const world = await createWorld(db.sql);
  server = await startTestServer(db.url, {
    IMPORT_BATCH_SIZE: String(BATCH),
    IMPORT_POLL_MS: '200',
    LIVE_BURST_LIMIT: '20'
  });
  manager = await Browser.signedIn(server.url, world.manager.email);
  socket = await openSocket(server.url, manager);
});
afterAll(async () => {
  closeSockets();
  await server?.close();
  await db?.drop();
});

describe('upload and preview', () => {
  it('detects the delimiter, the encoding and the header, suggests the mapping and shows the first 20 rows', async () => {
    const text = customersCsv(30).replace('User1;', 'Zoë;');
    const preview = await uploaded('customers', 'people.csv', iconv.encode(text, 'win1252'));
    expect(preview.detected).toEqual({
      format: 'csv',
      encoding: 'windows-1252',
      delimiter: ';',
      header: true
    });
    expect(preview.columns).toEqual(['Email', 'First name', 'Last name', 'Tags']);
    expect(preview.options.mapping).toMatchObject({
      email: 'Email',
      first_name: 'First name',
      last_name: 'Last name',
      tags: 'Tags',
      phone: null
    });
    expect(preview.rows).toHaveLength(20);
    expect(preview.rows[0]).toEqual({
      line: 2,
      values: { Email: 'user1@import.test', 'First name': 'Zoë', 'Last name': 'Imported', Tags: 'vip|new' }
    });

    const bom = await uploaded('customers', 'bom.csv', '\ufeffemail,first_name\ttab\nann@x.test,Ann\n');
    expect(bom.detected).toMatchObject({ encoding: 'utf-8', delimiter: ',' });
    expect(bom.columns[0]).toBe('email');
    const tabbed = await uploaded('products', 'p.tsv', 'sku\tname\tprice\nABC-1\tCup\t4.50\n');
    expect(tabbed.detected.delimiter).toBe('\t');
    expect(tabbed.options.mapping).toMatchObject({ sku: 'sku', name: 'name', price: 'price' });
    const ndjson = await uploaded('customers', 'c.ndjson', '{"email":"a@x.test","first_name":"A"}\n');
    expect(ndjson.detected.format).toBe('ndjson');
    const json = await uploaded('customers', 'c.json', '[{"email":"a@x.test","first_name":"A"}]');
    expect(json.detected.format).toBe('json');

    // Another choice of options reads the file again.
    const again = await manager.post(`/api/imports/uploads/${preview.uploadId}/preview`, {
      encoding: 'utf-8'
    });
    expect(again.status).toBe(200);
    expect(again.body.preview.rows[0].values['First name']).toBe('Zo\ufffd');
    expect(again.body.preview.warnings.join(' ')).toMatch(/Windows-1252/);
  });

  it('is for managers and admins, and refuses what is not an entity', async () => {
    const agent = await Browser.signedIn(server.url, 'agent.a@test.dev');
    const res = await upload('customers', 'x.csv', 'email\n', agent);
    expect(res.status).toBe(403);
    const bad = await upload('tickets', 'x.csv', 'email\n');
    expect(bad.status).toBe(400);
    expectErrorShape(bad.body);
    expect(Number((await one(`SELECT count(*) AS n FROM import_uploads WHERE file_name = 'x.csv'`)).n)).toBe(
      0
    );
  });
});

describe('a customer import', () => {
  it('dry runs without writing, runs in batches with progress, and changes nothing the second time', async () => {
    const file = customersCsv(120, 1, 'not-an-email;Bad;Row;\nuser5@import.test;Again;Dup;\n;NoEmail;X;\n');
    const preview = await uploaded('customers', 'customers.csv', file);
    const before = await changeLogSize();

    const dry = await run(preview, true);
    expect(dry).toMatchObject({
      state: 'done',
      dryRun: true,
      imported: 120,
      updated: 0,
      rejected: 3,
      rows: 123
    });
    expect(
      Number((await one(`SELECT count(*) AS n FROM customers WHERE email LIKE '%@import.test'`)).n)
    ).toBe(0);
    expect(await changeLogSize()).toBe(before);

    const progress: ImportJob[] = [];
    const collect = (j: ImportJob) => progress.push(j);
    socket.on('import:progress', collect);
    const done = await run(preview);
    socket.off('import:progress', collect);
    expect(done).toMatchObject({ state: 'done', imported: 120, updated: 0, unchanged: 0, rejected: 3 });
    // Batches of 50: the bar moved at least three times before the end.
    expect(progress.filter((j) => j.id === done.id && j.state === 'running').length).toBeGreaterThanOrEqual(
      3
    );
    const stored = await one(
      `SELECT first_name, last_name, tags FROM customers WHERE email = 'user7@import.test'`
    );
    expect(stored).toEqual({ first_name: 'User7', last_name: 'Imported', tags: ['vip', 'new'] });

    const rejects = await manager.getOk(`/api/imports/${done.id}/rejects`);
    expect(rejects.total).toBe(3);
    expect(rejects.rejects).toEqual([
      { line: 122, column: 'Email', reason: 'Email "not-an-email" is not valid' },
      { line: 123, column: 'Email', reason: 'duplicate of line 6 (the same email)' },
      { line: 124, column: 'Email', reason: 'Email is missing' }
    ]);
    const csv = await manager.get(`/api/imports/${done.id}/failed-rows.csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toContain('customers-failed-rows.csv');
    expect(csv.body).toBe(
      'Email,First name,Last name,Tags,import_line,import_errors\n' +
        'not-an-email,Bad,Row,,122,"Email: Email ""not-an-email"" is not valid"\n' +
        'user5@import.test,Again,Dup,,123,Email: duplicate of line 6 (the same email)\n' +
        ',NoEmail,X,,124,Email: Email is missing\n'
    );

    // The same file again: nothing changes, not even the change log.
    const afterFirst = await changeLogSize();
    const again = await run(preview);
    expect(again).toMatchObject({ state: 'done', imported: 0, updated: 0, unchanged: 120, rejected: 3 });
    expect(await changeLogSize()).toBe(afterFirst);

    // A changed row is an update, of that row only.
    const changed = await uploaded(
      'customers',
      'one.csv',
      'email,first_name,last_name\nUSER9@import.test,Nine,Changed\n'
    );
    expect(await run(changed)).toMatchObject({ imported: 0, updated: 1, rejected: 0 });
    expect((await one(`SELECT last_name FROM customers WHERE email = 'user9@import.test'`)).last_name).toBe(
      'Changed'
    );

    const history = await manager.getOk('/api/imports?limit=5');
    expect(history.jobs[0]).toMatchObject({ id: expect.any(Number), fileName: 'one.csv', state: 'done' });
  });

  it('reports broken files row by row: a truncated file, a 50 MB line, a wrong encoding, an empty file', async () => {
    const truncated = await uploaded(
      'customers',
      'cut.csv',
      'email,first_name\ncut1@import.test,A\ncut2@import.test,"B'
    );
    const cut = await run(truncated);
    expect(cut).toMatchObject({ state: 'done', imported: 1, rejected: 1 });
    expect((await manager.getOk(`/api/imports/${cut.id}/rejects`)).rejects[0]).toMatchObject({
      line: 3,
      reason: expect.stringMatching(/not closed/)
    });

    const huge = Buffer.concat([
      Buffer.from('email,first_name\nbig1@import.test,A\nbig2@import.test,'),
      Buffer.alloc(50 * 1024 * 1024, 'x'),
      Buffer.from('\nbig3@import.test,C\n')
    ]);
    const big = await run(await uploaded('customers', 'huge.csv', huge));
    expect(big).toMatchObject({ state: 'done', imported: 2, rejected: 1 });
    expect((await manager.getOk(`/api/imports/${big.id}/rejects`)).rejects).toEqual([
      { line: 3, column: null, reason: 'line longer than 1 MB' }
    ]);

    const latin = await uploaded(
      'customers',
      'latin.csv',
      iconv.encode('email,first_name\nrene@import.test,René\n', 'win1252')
    );
    const wrong = await run(latin, false, { ...latin.options, encoding: 'utf-8' });
    expect(wrong).toMatchObject({ imported: 0, rejected: 1 });
    expect((await manager.getOk(`/api/imports/${wrong.id}/rejects`)).rejects[0].reason).toMatch(
      /not valid UTF-8/
    );
    const right = await run(latin);
    expect(right).toMatchObject({ imported: 1, rejected: 0 });
    expect((await one(`SELECT first_name FROM customers WHERE email = 'rene@import.test'`)).first_name).toBe(
      'René'
    );

    const empty = await uploaded('customers', 'empty.csv', '');
    expect(empty.warnings).toContain('The file is empty.');
    expect(await run(empty)).toMatchObject({ state: 'done', rows: 0, imported: 0, rejected: 0 });
  }, 180_000);

  it('applies each batch whole: a row the database refuses fails alone, a batch that breaks leaves nothing', async () => {
    await db.sql.query(`CREATE FUNCTION test_refuse_import() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.email = 'refused@atomic.test' THEN
          RAISE EXCEPTION 'refused by a rule' USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.email = 'breaks@atomic.test' THEN RAISE EXCEPTION 'the database broke'; END IF;
        RETURN NEW;
      END $$`);
    await db.sql.query(`CREATE TRIGGER test_refuse_import BEFORE INSERT ON customers FOR EACH ROW
      EXECUTE FUNCTION test_refuse_import()`);
    try {
      const rows = (emails: string[]) => 'email,first_name\n' + emails.map((e) => `${e},X`).join('\n') + '\n';
      const list = (prefix: string, n: number) =>
        Array.from({ length: n }, (_, i) => `${prefix}${i}@atomic.test`);

      const refused = await run(
        await uploaded(
          'customers',
          'r.csv',
          rows([...list('a', 20), 'refused@atomic.test', ...list('b', 20)])
        )
      );
      expect(refused).toMatchObject({ state: 'done', imported: 40, rejected: 1 });
      expect((await manager.getOk(`/api/imports/${refused.id}/rejects`)).rejects[0]).toMatchObject({
        line: 22,
        reason: expect.stringMatching(/refused by the database: refused by a rule/)
      });

      // Batch 1 (50 rows) commits; batch 2 breaks on its 10th row: none of batch 2 is written.
      const broken = await run(
        await uploaded('customers', 'b.csv', rows([...list('c', 59), 'breaks@atomic.test', ...list('d', 30)]))
      );
      expect(broken).toMatchObject({
        state: 'failed',
        imported: 50,
        error: expect.stringMatching(/the database broke/)
      });
      const written = await one(
        `SELECT count(*)::int AS n FROM customers WHERE email ~ '^c[0-9]+@atomic.test'`
      );
      expect(written.n).toBe(50);
      expect(
        (await one(`SELECT count(*)::int AS n FROM customers WHERE email ~ '^d[0-9]+@atomic.test'`)).n
      ).toBe(0);
    } finally {
      await db.sql.query(`DROP TRIGGER test_refuse_import ON customers`);
    }
  });
});

describe('external ids', () => {
  it('upserts customers by their external id in its source, through merges, and matches orders by it', async () => {
    const legacy = async (file: string, source = 'legacy') => {
      const preview = await uploaded('customers', 'ext.csv', file);
      return run(preview, false, { ...preview.options, source });
    };
    const byEmail = (
      await one(
        `INSERT INTO customers (email, first_name) VALUES ('byemail@ext.test', 'Before') RETURNING id`
      )
    ).id;

    const first = await legacy(
      'external_id,email,first_name\nL-1,ext1@ext.test,One\nL-2,ext2@ext.test,Two\nL-3,ext3@ext.test,Three\n' +
        'L-1,dup@ext.test,Dup\nL-4,BYEMAIL@ext.test,Four\n'
    );
    expect(first).toMatchObject({ state: 'done', imported: 3, updated: 1, rejected: 1 });
    expect((await manager.getOk(`/api/imports/${first.id}/rejects`)).rejects).toEqual([
      { line: 5, column: 'external_id', reason: 'duplicate of line 2 (the same external id)' }
    ]);
    // A customer found by email takes the row's external id.
    expect(
      await one(`SELECT external_source, external_id, first_name FROM customers WHERE id = $1`, [byEmail])
    ).toEqual({
      external_source: 'legacy',
      external_id: 'L-4',
      first_name: 'Four'
    });
    const idOf = async (externalId: string, source = 'legacy') =>
      (
        await one(`SELECT id FROM customers WHERE external_source = $1 AND external_id = $2`, [
          source,
          externalId
        ])
      )?.id;
    const one1 = await idOf('L-1');

    // Found by its external id, the customer follows the file's new email.
    expect(await legacy('external_id,email,first_name\nL-1,ext1-new@ext.test,One\n')).toMatchObject({
      imported: 0,
      updated: 1
    });
    expect((await one(`SELECT email FROM customers WHERE id = $1`, [one1])).email).toBe('ext1-new@ext.test');

    // Unique per source: another system's "L-1" is another customer.
    expect(await legacy('external_id,email,first_name\nL-1,shop1@ext.test,Shop\n', 'shop')).toMatchObject({
      imported: 1
    });
    expect(await idOf('L-1', 'shop')).not.toBe(one1);

    // L-2 merged into L-3: the merged-away customer's external id reaches the survivor.
    const two = await idOf('L-2');
    const three = await idOf('L-3');
    await db.sql.query(`INSERT INTO customer_aliases (alias_id, customer_id) VALUES ($1, $2)`, [two, three]);
    await db.sql.query(`UPDATE customers SET merged_into = $2, merged_at = now() WHERE id = $1`, [
      two,
      three
    ]);
    const viaAlias = await legacy(
      'external_id,email,first_name\nL-2,ext2@ext.test,Renamed\nL-9,ext3@ext.test,Clash\n'
    );
    expect(viaAlias).toMatchObject({ imported: 0, updated: 1, rejected: 1 });
    expect(await one(`SELECT first_name, email FROM customers WHERE id = $1`, [three])).toEqual({
      first_name: 'Renamed',
      email: 'ext3@ext.test'
    });
    expect((await one(`SELECT first_name FROM customers WHERE id = $1`, [two])).first_name).toBe('Two');
    expect((await manager.getOk(`/api/imports/${viaAlias.id}/rejects`)).rejects).toEqual([
      {
        line: 3,
        column: 'external_id',
        reason: 'this email belongs to a customer whose external id is L-3 (source legacy)'
      }
    ]);
    // An email that is another customer's is refused for the customer found by external id.
    const clash = await legacy('external_id,email,first_name\nL-4,ext3@ext.test,Clash\n');
    expect(clash).toMatchObject({ imported: 0, updated: 0, rejected: 1 });
    expect((await manager.getOk(`/api/imports/${clash.id}/rejects`)).rejects).toEqual([
      { line: 2, column: 'email', reason: `email ext3@ext.test belongs to another customer (#${three})` }
    ]);

    // Orders name their customer by external id (in the import's source).
    await db.sql.query(`INSERT INTO products (sku, name, price) VALUES ('EXT-CUP', 'Cup', 3)`);
    const orders = await uploaded(
      'orders',
      'ext-orders.csv',
      'order_id,customer_external_id,sku,quantity,unit_price\nEXT-O1,L-2,EXT-CUP,1,3\nEXT-O2,L-1,EXT-CUP,2,3\n' +
        'EXT-O3,L-404,EXT-CUP,1,3\n'
    );
    expect(orders.options.mapping.customer_external_id).toBe('customer_external_id');
    expect(await run(orders, false, { ...orders.options, source: 'legacy' })).toMatchObject({
      imported: 2,
      rejected: 1
    });
    expect((await one(`SELECT customer_id FROM orders WHERE external_id = 'EXT-O1'`)).customer_id).toBe(
      three
    );
    expect((await one(`SELECT customer_id FROM orders WHERE external_id = 'EXT-O2'`)).customer_id).toBe(one1);

    // The same file again changes nothing.
    const before = await changeLogSize();
    expect(await legacy('external_id,email,first_name\nL-1,ext1-new@ext.test,One\n')).toMatchObject({
      imported: 0,
      updated: 0,
      unchanged: 1
    });
    expect(await changeLogSize()).toBe(before);
  });
});

describe('live screens', () => {
  it('see a batch of imported rows as one resync, not a frame a row', async () => {
    const watcher = await openSocket(server.url, 'agent.a@test.dev');
    const answer = await new Promise((resolve) =>
      (watcher.emit as (...a: unknown[]) => void)('list:watch', 'customers', resolve)
    );
    expect(answer).toEqual({ data: { ok: true } });
    const frames: unknown[] = [];
    watcher.on('customer:updated' as never, (e: unknown) => void frames.push(e));
    const resync = waitFor<{ reason: string; topics: string[] }>(
      watcher,
      'live:resync',
      (e) => e.reason === 'burst',
      60_000
    );
    const file =
      'email,first_name\n' + Array.from({ length: BATCH }, (_, i) => `live${i}@resync.test,Live`).join('\n');
    expect(await run(await uploaded('customers', 'live.csv', file))).toMatchObject({ imported: BATCH });
    expect((await resync).topics).toContain('customer');
    expect(frames.length).toBeLessThan(BATCH);
    // Captured a statement at a time (migration 0032), each new customer is still one change, in id order.
    const captured = await db.sql.query(
      `SELECT l.entity_id::int AS id, l.customer_id, l.data ->> 'email' AS email FROM change_log l
        WHERE l.topic = 'customer' AND l.op = 'insert' AND l.data ->> 'email' LIKE '%@resync.test' ORDER BY l.id`
    );
    expect(captured.rows).toHaveLength(BATCH);
    expect(captured.rows.map((r) => r.id)).toEqual(captured.rows.map((r) => r.id).sort((a, b) => a - b));
    expect(captured.rows.every((r) => r.customer_id === r.id)).toBe(true);
  }, 120_000);

  it('get each new customer and consent as the whole row (search aside), and an empty stats row', async () => {
    // Migration 0044 builds these rows from the row's columns instead of the whole row's JSON,
    // and runs the stats row's RFM trigger only where it can find a segment: same data either way.
    const csv =
      'email,first_name,last_name,phone,tags,marketing_consent\n' +
      'whole1@capture.test,Whole,One,+1 555 0100,vip|new,yes\nwhole2@capture.test,Whole,Two,,,no\n';
    expect(await run(await uploaded('customers', 'capture.csv', csv))).toMatchObject({ imported: 2 });
    const customers = (
      await db.sql.query(
        `SELECT c.id, l.data = to_jsonb(c) - 'search' AS same, l.entity_id::int AS entity_id,
                l.customer_id, l.version, l.data ->> 'phone_e164' AS phone_e164, l.data ? 'search' AS has_search,
                s.customer_id IS NOT NULL AS has_stats, s.rfm
           FROM customers c
           JOIN change_log l ON l.topic = 'customer' AND l.op = 'insert' AND l.entity_id = c.id
           LEFT JOIN customer_stats s ON s.customer_id = c.id
          WHERE c.email LIKE '%@capture.test' ORDER BY c.email`
      )
    ).rows;
    expect(customers).toEqual([
      expect.objectContaining({
        same: true,
        phone_e164: '+15550100',
        has_search: false,
        has_stats: true,
        rfm: null
      }),
      expect.objectContaining({ same: true, phone_e164: null, has_search: false, has_stats: true, rfm: null })
    ]);
    for (const c of customers) expect([c.entity_id, c.customer_id, c.version]).toEqual([c.id, c.id, 1]);
    const consent = await one(
      `SELECT l.data = to_jsonb(k) AS same, l.entity_id::bigint = k.id AS entity, l.customer_id = k.customer_id AS customer,
              l.version
         FROM customer_consents k JOIN customers c ON c.id = k.customer_id
         JOIN change_log l ON l.topic = 'customer_consent' AND l.op = 'insert' AND l.entity_id = k.id
        WHERE c.email = 'whole1@capture.test'`
    );
    expect(consent).toEqual({ same: true, entity: true, customer: true, version: null });

    // The RFM trigger still runs for a stats row that can have a segment, and clears one that cannot.
    const [first] = customers;
    const rfm = async (set: string) =>
      (await one(`UPDATE customer_stats SET ${set} WHERE customer_id = $1 RETURNING rfm`, [first.id])).rfm;
    await rfm(`order_count = 3, lifetime_spend = 90, last_order_at = now()`);
    await db.sql.query(`SELECT segment_refresh_rfm_cutoffs()`);
    const bought = await rfm(`rfm = NULL, lifetime_spend = 91`);
    expect(bought).not.toBeNull();
    expect(bought).toBe(
      (
        await one(
          `SELECT segment_rfm(last_order_at, order_count, lifetime_spend) AS seg FROM customer_stats WHERE customer_id = $1`,
          [first.id]
        )
      ).seg
    );
    expect(
      await rfm(`rfm = 'champions', order_count = 0, lifetime_spend = 0, last_order_at = NULL`)
    ).toBeNull();
  }, 120_000);

  it('give each staged phone the E.164 form the fallback always gave (0044 made it plpgsql)', async () => {
    // [phone, default country code, E.164], as migration 0030's SQL function computed them.
    const cases: [string | null, string, string | null][] = [
      [null, '1', null],
      ['12345', '1', null],
      ['+1 555 0100', '1', '+15550100'],
      [' +44 20 7946 0958', '1', '+442079460958'],
      ['0044 20 7946 0958', '1', '+10442079460958'],
      ['01144207946', '1', '+44207946'],
      ['1 555 123 4567', '1', '+15551234567'],
      ['(555) 123-4567', '1', '+15551234567'],
      ['020 7946 0958', '1', '+12079460958'],
      [null, '44', null],
      ['12345', '44', null],
      ['+1 555 0100', '44', '+15550100'],
      [' +44 20 7946 0958', '44', '+442079460958'],
      ['0044 20 7946 0958', '44', '+442079460958'],
      ['01144207946', '44', '+441144207946'],
      ['1 555 123 4567', '44', '+4415551234567'],
      ['(555) 123-4567', '44', '+445551234567'],
      ['020 7946 0958', '44', '+442079460958']
    ];
    const { rows } = await db.sql.query<{ e164: string | null }>(
      `SELECT phone_e164_fallback(p, c) AS e164 FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(p, c, i) ORDER BY i`,
      [cases.map((c) => c[0]), cases.map((c) => c[1])]
    );
    expect(rows.map((r) => r.e164)).toEqual(cases.map((c) => c[2]));
  });

  it('index new customers by the normalised email and postcodes they always had (0044 inlined them)', async () => {
    // As migration 0017's functions computed them; customers_email_norm_idx and
    // customers_postcodes_idx were built with those, so any other answer would corrupt them.
    const emails: [string | null, string | null][] = [
      [null, null],
      ['', ''],
      [' J.Doe+tag@GMail.com ', 'jdoe@gmail.com'],
      ['j.doe@googlemail.com', 'jdoe@gmail.com'],
      ['+x@y.com', '+x@y.com'],
      ['x@', 'x@'],
      ['a+b+c@d.e', 'a@d.e'],
      ['no-at', 'no-at@'],
      ['x@gmail.com@z', 'x@gmail.com']
    ];
    const normalised = await db.sql.query<{ k: string | null }>(
      `SELECT normalize_email(e) AS k FROM unnest($1::text[]) WITH ORDINALITY AS u(e, i) ORDER BY i`,
      [emails.map((e) => e[0])]
    );
    expect(normalised.rows.map((r) => r.k)).toEqual(emails.map((e) => e[1]));
    const addresses: [unknown, string[]][] = [
      [null, []],
      [[], []],
      [{}, []],
      [[1], []],
      [[{ zip: 'ab 1' }], ['AB1']],
      [
        [{ postcode: 'x' }, { postal_code: ' y z ' }, { zip: '' }],
        ['X', 'YZ']
      ],
      [
        [{ zip: 'B' }, { zip: 'a' }, { zip: 'B' }],
        ['A', 'B']
      ]
    ];
    const postcodes = await db.sql.query<{ p: string[] }>(
      `SELECT customer_postcodes(a) AS p FROM unnest($1::jsonb[]) WITH ORDINALITY AS u(a, i) ORDER BY i`,
      [addresses.map((a) => (a[0] === null ? null : JSON.stringify(a[0])))]
    );
    expect(postcodes.rows.map((r) => r.p)).toEqual(addresses.map((a) => a[1]));
  });
});

describe('products and orders', () => {
  it('imports orders with their items, matched by email (a merged customer’s old email too) and SKU', async () => {
    const products = await uploaded(
      'products',
      'products.csv',
      'sku,name,price,stock\nIMP-CUP,Cup,4.50,10\nIMP-MUG,Mug,"1,234.00",1\nbad sku,X,1,1\n'
    );
    expect(await run(products)).toMatchObject({ imported: 2, rejected: 1 });

    const survivor = (
      await one(`INSERT INTO customers (email, first_name) VALUES ('keep@orders.test', 'Keep') RETURNING id`)
    ).id;
    const merged = (
      await one(`INSERT INTO customers (email, first_name) VALUES ('old@orders.test', 'Old') RETURNING id`)
    ).id;
    await mergeInto(merged, survivor);

    const ndjson = [
      {
        id: 'SHOP-1',
        email: 'keep@orders.test',
        financial_status: 'paid',
        items: [
          { sku: 'IMP-CUP', quantity: 2, price: '4.50' },
          { sku: 'IMP-MUG', quantity: 3, price: '1234' }
        ]
      },
      { id: 'SHOP-2', email: 'old@orders.test', items: [{ sku: 'IMP-CUP', quantity: 1, price: '4.50' }] },
      { id: 'SHOP-3', email: 'nobody@orders.test', items: [{ sku: 'IMP-CUP', quantity: 1, price: '4.50' }] },
      { id: 'SHOP-4', email: 'keep@orders.test', items: [{ sku: 'IMP-NONE', quantity: 1, price: '4.50' }] }
    ]
      .map((o) => JSON.stringify(o))
      .join('\n');
    const preview = await uploaded('orders', 'orders.ndjson', ndjson);
    expect(preview.options.mapping).toMatchObject({
      order_id: 'id',
      customer_email: 'email',
      status: 'financial_status'
    });
    const done = await run(preview);
    expect(done).toMatchObject({ state: 'done', imported: 2, rejected: 2 });
    const order = await one(
      `SELECT o.customer_id, o.status, o.total::text, count(i.*)::int AS items
         FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.external_id = 'SHOP-1' GROUP BY o.id`
    );
    expect(order).toEqual({ customer_id: survivor, status: 'paid', total: '3711.00', items: 2 });
    // Paid beyond the stock: taken (migration 0023), the shortfall received first.
    expect((await one(`SELECT stock FROM products WHERE sku = 'IMP-MUG'`)).stock).toBe(0);
    expect((await one(`SELECT customer_id FROM orders WHERE external_id = 'SHOP-2'`)).customer_id).toBe(
      survivor
    );
    const reasons = (await manager.getOk(`/api/imports/${done.id}/rejects`)).rejects.map(
      (r: any) => r.reason
    );
    expect(reasons).toEqual([
      'no customer with this email, external id or id',
      'no product with SKU IMP-NONE'
    ]);

    // Again: nothing new; a status that moved on is an update of that order.
    expect(await run(preview)).toMatchObject({ imported: 0, updated: 0, unchanged: 2, rejected: 2 });
    const csv =
      'order_id,customer_email,status,sku,quantity,unit_price\n' +
      'SHOP-2,keep@orders.test,paid,IMP-CUP,1,4.50\n' +
      'SHOP-5,keep@orders.test,pending,IMP-CUP,1,4.50\nSHOP-5,keep@orders.test,pending,IMP-MUG,2,10\n';
    expect(await run(await uploaded('orders', 'more.csv', csv))).toMatchObject({
      imported: 1,
      updated: 1,
      rejected: 0
    });
    expect((await one(`SELECT status FROM orders WHERE external_id = 'SHOP-2'`)).status).toBe('paid');
    expect(
      (
        await one(
          `SELECT count(*)::int AS n FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.external_id = 'SHOP-5'`
        )
      ).n
    ).toBe(2);

    // An order's items apart from each other: the later ones are refused, even in a later batch
    // (the file's keys are kept by the database, not in the importer's memory), in a dry run too.
    const apart =
      'order_id,customer_email,status,sku,quantity,unit_price\n' +
      'SHOP-6,keep@orders.test,pending,IMP-CUP,1,4.50\n' +
      Array.from({ length: BATCH }, (_, i) => `SHOP-F${i},keep@orders.test,pending,IMP-CUP,1,4.50\n`).join(
        ''
      ) +
      'SHOP-6,keep@orders.test,pending,IMP-MUG,1,10\n';
    const apartPreview = await uploaded('orders', 'apart.csv', apart);
    for (const dryRun of [true, false]) {
      const job = await run(apartPreview, dryRun);
      expect(job).toMatchObject({ state: 'done', imported: BATCH + 1, rejected: 1 });
      expect((await manager.getOk(`/api/imports/${job.id}/rejects`)).rejects).toEqual([
        {
          line: BATCH + 3,
          column: 'order_id',
          reason: "order SHOP-6 was already given on line 2 (an order's items must be next to each other)"
        }
      ]);
    }
  });

  it('replaces the items of an order imported again with other items, stock included, and nothing when they are the same', async () => {
    await db.sql.query(
      `INSERT INTO products (sku, name, price, stock) VALUES ('REP-TEA', 'Tea', 2, 50), ('REP-POT', 'Pot', 20, 10)`
    );
    const stock = async () =>
      (await db.sql.query(`SELECT sku, stock FROM products WHERE sku LIKE 'REP-%' ORDER BY sku`)).rows;
    const items = async (ref: string) =>
      (
        await db.sql.query(
          `SELECT p.sku, i.quantity, i.unit_price::text AS price FROM order_items i
             JOIN orders o ON o.id = i.order_id JOIN products p ON p.id = i.product_id
            WHERE o.external_id = $1 ORDER BY i.id`,
          [ref]
        )
      ).rows;
    const head = 'order_id,customer_email,status,sku,quantity,unit_price\n';
    const first =
      head +
      'REP-1,keep@orders.test,paid,REP-TEA,5,2\nREP-1,keep@orders.test,paid,REP-POT,1,20\n' +
      'REP-2,keep@orders.test,pending,REP-TEA,1,2\n';
    expect(await run(await uploaded('orders', 'rep.csv', first))).toMatchObject({ imported: 2, rejected: 0 });
    expect(await stock()).toEqual([
      { sku: 'REP-POT', stock: 9 },
      { sku: 'REP-TEA', stock: 45 }
    ]);

    // REP-1 now has two teas and two pots; REP-2 another price: both are replaced, exactly.
    const changed =
      head +
      'REP-1,keep@orders.test,paid,REP-TEA,2,2\nREP-1,keep@orders.test,paid,REP-POT,2,19.50\n' +
      'REP-2,keep@orders.test,pending,REP-TEA,1,1.50\n';
    const preview = await uploaded('orders', 'rep2.csv', changed);
    expect(await run(preview)).toMatchObject({ imported: 0, updated: 2, unchanged: 0, rejected: 0 });
    expect(await items('REP-1')).toEqual([
      { sku: 'REP-TEA', quantity: 2, price: '2.00' },
      { sku: 'REP-POT', quantity: 2, price: '19.50' }
    ]);
    expect(await items('REP-2')).toEqual([{ sku: 'REP-TEA', quantity: 1, price: '1.50' }]);
    expect((await one(`SELECT total::text FROM orders WHERE external_id = 'REP-1'`)).total).toBe('43.00');
    expect((await one(`SELECT total::text FROM orders WHERE external_id = 'REP-2'`)).total).toBe('1.50');
    // The paid order's old items gave their stock back; its new ones took theirs.
    expect(await stock()).toEqual([
      { sku: 'REP-POT', stock: 8 },
      { sku: 'REP-TEA', stock: 48 }
    ]);

    // The same file again: nothing is written, not even the change log.
    const before = await changeLogSize();
    expect(await run(preview)).toMatchObject({ imported: 0, updated: 0, unchanged: 2, rejected: 0 });
    expect(await changeLogSize()).toBe(before);
    expect(await stock()).toEqual([
      { sku: 'REP-POT', stock: 8 },
      { sku: 'REP-TEA', stock: 48 }
    ]);
  });
});

describe('loyalty', () => {
  it('brings existing customers without a sign-up bonus, which a customer signing up still gets', async () => {
    const config: ProgramConfig = {
      ...STARTING_PROGRAM,
      earn: { ...STARTING_PROGRAM.earn, bonuses: { signUp: 100, birthday: 0, firstReview: 0 } }
    };
    await db.sql.query(
      `INSERT INTO loyalty_program_versions (status, config, effective_at, published_at)
       VALUES ('published', $1, now() - interval '1 minute', now())`,
      [config]
    );
    const csv =
      'Email;First name\n' +
      Array.from({ length: 5 }, (_, i) => `brought${i}@import.test;Brought`).join('\n');
    const job = await run(await uploaded('customers', 'brought.csv', csv));
    expect(job).toMatchObject({ state: 'done', imported: 5 });
    const bonuses = (pattern: string) =>
      one<{ n: number }>(
        `SELECT count(*)::int AS n FROM loyalty_ledger l JOIN loyalty_accounts a ON a.id = l.account_id
           JOIN customers c ON c.id = a.customer_id WHERE c.email LIKE $1 AND l.bonus = 'sign_up'`,
        [pattern]
      );
    expect((await bonuses('brought%@import.test')).n).toBe(0);
    await createCustomer(db.sql, 'signs-up@import.test');
    expect((await bonuses('signs-up@import.test')).n).toBe(1);
  });
});

describe('consent', () => {
  it('leaves a consent row for each customer imported with consent, and every other consent row is summarized and resolved as before', async () => {
    const csv =
      'email,first_name,marketing_consent\nyes1@consent.test,Yes,yes\nno@consent.test,No,no\nyes2@consent.test,Yes,yes\n';
    expect(await run(await uploaded('customers', 'consent.csv', csv))).toMatchObject({ imported: 3 });
    const rows = (
      await db.sql.query(
        `SELECT c.email, c.marketing_consent, k.granted, k.source, k.at = c.marketing_consent_at AS same_time
           FROM customers c LEFT JOIN customer_consents k ON k.customer_id = c.id
          WHERE c.email LIKE '%@consent.test' ORDER BY c.email`
      )
    ).rows;
    expect(rows).toEqual([
      { email: 'no@consent.test', marketing_consent: false, granted: null, source: null, same_time: null },
      {
        email: 'yes1@consent.test',
        marketing_consent: true,
        granted: true,
        source: 'import',
        same_time: true
      },
      {
        email: 'yes2@consent.test',
        marketing_consent: true,
        granted: true,
        source: 'import',
        same_time: true
      }
    ]);

    // In the transaction that inserted a customer with consent, a later consent row still reaches
    // its customer's summary, and one given to a merged-away customer still lands on the survivor.
    const survivor = (await one(`SELECT id FROM customers WHERE email = 'yes1@consent.test'`)).id;
    const merged = (await one(`SELECT id FROM customers WHERE email = 'no@consent.test'`)).id;
    await mergeInto(merged, survivor);
    await db.sql.query(
      `INSERT INTO customers (email, first_name, marketing_consent, marketing_consent_at)
         VALUES ('same-tx@consent.test', 'Same', true, now());
       INSERT INTO customer_consents (customer_id, channel, granted, at, source)
         VALUES (${Number(merged)}, 'email', false, now() + interval '1 second', 'agent');`
    );
    expect(
      await one(
        `SELECT marketing_consent, (SELECT count(*)::int FROM customer_consents WHERE customer_id = $1) AS n
           FROM customers WHERE id = $1`,
        [survivor]
      )
    ).toEqual({ marketing_consent: false, n: 2 });
    expect(
      (await one(`SELECT marketing_consent FROM customers WHERE email = 'same-tx@consent.test'`))
        .marketing_consent
    ).toBe(true);
  });
});
