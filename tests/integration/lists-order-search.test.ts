import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeListState, type ListQuery } from '#shared/lists/query.js';
import type { RunningPulse } from '../../server/pulse.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createWorld } from '../support/fixtures.js';
import { Browser } from '../support/http.js';
import { startTestServer } from '../support/server.js';

// Orders searched by a customer's name (server/services/lists/entities.ts, orderSearchCustomers):
// a name typed as it is finds that customer's orders, not the orders of everyone whose name is
// like it; a typo, which names nobody, finds the customers whose name is like it. The page a
// search picks by itself and the footer, which counts every match, agree.

let db: TestDatabase;
let server: RunningPulse;
let manager: Browser;
const orders: Record<string, number> = {};

async function customerWithOrders(first: string, last: string, daysAgo: number[]) {
  const { rows } = await db.sql.query<{ id: number }>(
    `INSERT INTO customers (email, first_name, last_name) VALUES ($1, $2, $3) RETURNING id`,
    [`${first}.${last}@example.com`.toLowerCase(), first, last]
  );
  for (const [i, days] of daysAgo.entries()) {
    const { rows: o } = await db.sql.query<{ id: number }>(
      `INSERT INTO orders (customer_id, total, order_date) VALUES ($1, 10, now() - make_interval(days => $2)) RETURNING id`,
      [rows[0].id, days]
    );
    orders[`${first} ${i + 1}`] = o[0].id;
  }
}

const found = async (q: string, state: Partial<ListQuery> = {}) => {
  const res = await manager.get(`/api/orders?${encodeListState({ q, limit: 50, ...state })}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return (res.body.rows as { id: number }[]).map(
    (r) => Object.entries(orders).find(([, id]) => id === r.id)?.[0]
  );
};
const counted = async (q: string) => {
  const res = await manager.get(`/api/orders/summary?${encodeListState({ q })}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.count as number;
};

beforeAll(async () => {
  db = await createTestDatabase();
  const world = await createWorld(db.sql);
  // Newest first: Maria's order is the newest of all, and her name is like Isaac's.
  await customerWithOrders('Isaac', 'Hernandez', [5, 20]);
  await customerWithOrders('Maria', 'Hernandez', [1]);
  await customerWithOrders('Isabel', 'Hernandes', [9]);
  await customerWithOrders('Oscar', 'Mendoza', [3]);
  await customerWithOrders('Emilia', 'Mendoza', [2]);
  // A duplicate with the typo in its name, merged into Isaac (its orders would be his now).
  await db.sql.query(
    `INSERT INTO customers (email, first_name, last_name, merged_into, merged_at)
     SELECT 'iasac@example.com', 'Iasac', 'Hernandez', id, now() FROM customers WHERE first_name = 'Isaac'`
  );
  server = await startTestServer(db.url);
  manager = await Browser.signedIn(server.url, world.manager.email);
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

describe('orders searched by a customer name', () => {
  it('a name as typed finds that customer’s orders only, newest first, on the page and in the footer', async () => {
    expect(await found('Isaac Hernandez')).toEqual(['Isaac 1', 'Isaac 2']);
    expect(await counted('Isaac Hernandez')).toBe(2);
    // One order a page: the cursor walks the same two.
    const first = await manager.get(`/api/orders?${encodeListState({ q: 'Isaac Hernandez', limit: 1 })}`);
    expect(first.body.rows.map((r: { id: number }) => r.id)).toEqual([orders['Isaac 1']]);
    expect(await found('Isaac Hernandez', { limit: 1, cursor: first.body.nextCursor })).toEqual(['Isaac 2']);
  });

  it('a word typed as it is finds every customer it names', async () => {
    expect(await found('hernandez')).toEqual(['Maria 1', 'Isaac 1', 'Isaac 2']);
    expect(await counted('hernandez')).toBe(3);
  });

  it('a typo that names nobody (a customer merged away is nobody) finds the closest names first', async () => {
    // Isaac Hernandez is 0.69 like it; Maria Hernandez (0.63) and Isabel Hernandes (0.56) are not as close.
    expect(await found('Iasac Hernandez')).toEqual(['Isaac 1', 'Isaac 2']);
    expect(await counted('Iasac Hernandez')).toBe(2);
  });

  it('a typo a shorter name leaves under the close step finds every name like it', async () => {
    // Oscar Mendoza is 0.64 like "Ocsar Mendoza" (under 0.65), Emilia Mendoza 0.57: both are like it.
    expect(await found('Ocsar Mendoza')).toEqual(['Emilia 1', 'Oscar 1']);
    expect(await counted('Ocsar Mendoza')).toBe(2);
  });

  it('a typo nobody is that close to finds every name like it', async () => {
    // "Hernadnez" is 0.5 like Hernandez and Hernandes: under the close step, above the search's 0.4.
    expect(await found('Hernadnez')).toEqual(['Maria 1', 'Isaac 1', 'Isabel 1', 'Isaac 2']);
    expect(await counted('Hernadnez')).toBe(4);
    // The page a search picks, its next page and the footer agree on the wide set too.
    const first = await manager.get(`/api/orders?${encodeListState({ q: 'Hernadnez', limit: 3 })}`);
    expect(first.body.rows).toHaveLength(3);
    expect(await found('Hernadnez', { limit: 3, cursor: first.body.nextCursor })).toEqual(['Isaac 2']);
  });
});
