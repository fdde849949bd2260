import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LIST_FIELDS, encodeListState, type FilterGroup, type ListEntity } from '#shared/lists/query.js';
import type { RunningPulse } from '../../server/pulse.js';
import { EXPORT_BATCH } from '../../server/services/lists/csv.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createOrder, createWorld } from '../support/fixtures.js';
import { Browser } from '../support/http.js';
import { startTestServer } from '../support/server.js';

// A table larger than one batch. The CSV export is written by the database
// (server/services/lists/csv.ts): every cell must say what the list's JSON says, every text cell
// neutralised by the rules a spreadsheet needs, and the set must come out whole, in order, each
// row once. The footer counts within its time limit, or says it only estimated.

// Sets of ten thousand rows, inserted, streamed and counted: the test timeout is only the net.
vi.setConfig({ testTimeout: 120_000 });

let db: TestDatabase;
let server: RunningPulse;
let manager: Browser;
let managerEmail: string;

beforeAll(async () => {
  db = await createTestDatabase();
  const world = await createWorld(db.sql);
  // The exact footer is asserted exact: its deadline is no part of that (the hurried server's is).
  server = await startTestServer(db.url, { FOOTER_TIMEOUT_MS: '60000' });
  managerEmail = world.manager.email;
  manager = await Browser.signedIn(server.url, managerEmail);

  // Text that spreadsheets would run, at the start and after `;` separators, among quotes,
  // commas and line breaks; tags with a NULL element; NULLs and empty strings.
  const hostile: [string, string, string[] | null][] = [
    ['=1+1', ';;=x;+y; -z', ['@a', null as unknown as string, 'b;=c']],
    ['Empty', 'Tags', ['', '=z']],
    ['Line\nbreak', 'say "hi", ok', null],
    ['\r=cr', '-', ['\t']],
    ['; lead', 'trail;', ['x,y']],
    ['Zoë 🎉', 'محمد', ['ok']]
  ];
  for (const [i, [first, last, tags]] of hostile.entries()) {
    const { rows } = await db.sql.query<{ id: number }>(
      `INSERT INTO customers (email, first_name, last_name, tags, phone)
       VALUES ($1, $2, $3, coalesce($4::text[], '{}'), $5) RETURNING id`,
      [`x${i}@export.test`, first, last, tags, i % 3 === 0 ? null : `+1 555 010${i}`]
    );
    await createOrder(db.sql, { customerId: rows[0].id, total: `${i}.5${i}` });
  }
  const { rows: products } = await db.sql.query<{ id: number }>(
    `INSERT INTO products (sku, name, price, stock) VALUES
       ('SKU-1', '+Widget; =bad', 10.5, 3), ('P-2', 'Gadget, "big"', 0, 0) RETURNING id`
  );
  const { rows: buyers } = await db.sql.query<{ id: number }>(`SELECT id FROM customers ORDER BY id LIMIT 3`);
  for (const [i, rating] of [5, 4, 4].entries())
    await db.sql.query(`INSERT INTO reviews (customer_id, product_id, rating) VALUES ($1, $2, $3)`, [
      buyers[i].id,
      products[0].id,
      rating
    ]);
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

/** RFC 4180 lines and cells of a CSV text (without its BOM). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted && ch === '"' && text[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (quoted && ch === '"') quoted = false;
    else if (quoted) cell += ch;
    else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  expect(cell).toBe('');
  return rows;
}

/** What a cell should hold for a JSON value: the rule written out once more, independently. */
function expectedCell(value: unknown, text: boolean): string {
  if (value === null || value === undefined) return '';
  const raw = Array.isArray(value) ? value.map((v) => v ?? '').join(', ') : String(value);
  if (!text) return raw;
  return raw
    .split(';')
    .map((part) => (/^[=+\-@\t\r]/.test(part) ? `'${part}` : part))
    .join(';');
}

async function exportOf(entity: ListEntity, state: Parameters<typeof encodeListState>[0]) {
  const res = await fetch(new URL(`/api/${entity}/export.csv?${encodeListState(state)}`, server.url), {
    headers: { cookie: manager.cookie }
  });
  expect(res.status).toBe(200);
  const bytes = new Uint8Array(await res.arrayBuffer());
  expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  const text = new TextDecoder().decode(bytes.slice(3));
  expect(text.endsWith('\r\n')).toBe(true);
  return parseCsv(text);
}

describe('CSV export', () => {
  it.each(['customers', 'orders', 'products'] as ListEntity[])(
    'every %s cell says what the list says, formulas neutralised',
    async (entity) => {
      const fields = LIST_FIELDS[entity].filter((f) => f.column !== false);
      const columns = fields.map((f) => f.key);
      const state = { columns, sort: [{ field: 'id', dir: 'asc' as const }], limit: 200 };
      const page = await manager.getOk(`/api/${entity}?${encodeListState(state)}`);
      const csv = await exportOf(entity, state);
      expect(csv[0]).toEqual(fields.map((f) => expectedCell(f.label, true)));
      const text = fields.map((f) => f.type === 'text' || f.type === 'enum' || f.type === 'tags');
      const expected = (page.rows as Record<string, unknown>[]).map((row) =>
        columns.map((key, i) => expectedCell(row[key], text[i]))
      );
      expect(expected.length).toBeGreaterThan(1);
      expect(csv.slice(1)).toEqual(expected);
    }
  );

  it('writes a date as JSON does, in UTC with milliseconds, and a rating as a plain number', async () => {
    await db.sql.query(
      `UPDATE customers SET created_at = '2026-03-01 23:30:00.123789+05' WHERE email = 'x0@export.test'`
    );
    const filter = { op: 'and', rules: [{ field: 'email', operator: 'is', value: 'x0@export.test' }] };
    const csv = await exportOf('customers', { filter: filter as FilterGroup, columns: ['createdAt'] });
    expect(csv).toEqual([['Created'], ['2026-03-01T18:30:00.123Z']]);
    const products = await exportOf('products', {
      columns: ['sku', 'ratingAvg', 'price', 'active'],
      sort: [{ field: 'sku', dir: 'asc' }]
    });
    expect(products.find((r) => r[0] === 'SKU-1')).toEqual(['SKU-1', '4.33', '10.50', 'true']);
  });

  it('streams a set larger than one batch whole, in order, each row once', async () => {
    const extra = EXPORT_BATCH + 250;
    await db.sql.query(
      `INSERT INTO customers (email, first_name, last_name, created_at)
       SELECT 'bulk' || g || '@export.test', 'Bulk', 'Row ' || g, now() - (g % 97) * interval '1 minute'
         FROM generate_series(1, $1) g`,
      [extra]
    );
    // Ties on the first key (97 distinct times) make the id tie-breaker carry the keyset.
    const sort = [{ field: 'createdAt', dir: 'desc' as const }];
    const csv = await exportOf('customers', { columns: ['id'], sort });
    const { rows } = await db.sql.query<{ id: number }>(
      `SELECT id FROM customers ORDER BY created_at DESC, id DESC`
    );
    expect(csv.length - 1).toBeGreaterThan(EXPORT_BATCH);
    expect(csv.slice(1).map((r) => Number(r[0]))).toEqual(rows.map((r) => r.id));
    // The 10,250 inserts run every customer trigger: 30-50 s at a load of 20 on 2 cores.
  }, 180_000);

  it('answers a footer that cannot count in time with an estimate marked as one, not a wait', async () => {
    const filter = { op: 'and', rules: [{ field: 'name', operator: 'contains', value: 'row' }] };
    const path = `/api/customers/summary?${encodeListState({ filter: filter as FilterGroup })}`;
    const exact = await manager.getOk(path);
    const { rows } = await db.sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM customers WHERE first_name || ' ' || last_name ILIKE '%row%'`
    );
    expect(exact).toMatchObject({ count: rows[0].n });
    expect(exact.count).toBeGreaterThan(EXPORT_BATCH);
    expect(exact.estimated).toBeUndefined();
    expect(exact.sums.lifetimeSpend).toBe('0.00');

    // A server whose footers may take a millisecond: counting 10,000 customers takes longer.
    const hurried = await startTestServer(db.url, { FOOTER_TIMEOUT_MS: '1' });
    try {
      const as = await Browser.signedIn(hurried.url, managerEmail);
      const estimate = await as.getOk(path);
      expect(estimate).toMatchObject({ estimated: true, sums: {}, averages: {} });
      expect(estimate.count).toBeGreaterThan(0);
      // A bad filter is still refused before anything is counted.
      const bad = await as.get(
        `/api/customers/summary?filter=${encodeURIComponent('{"op":"and","rules":[{"field":"nope","operator":"is","value":1}]}')}`
      );
      expect(bad.status).toBe(400);
    } finally {
      await hurried.close();
    }
  });
});
