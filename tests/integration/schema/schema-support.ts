import pg from 'pg';
import { afterAll, beforeAll, expect } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { createOrder, createWorld } from '../../support/fixtures.js';

// Every rule the database enforces, checked from the outside: a bad write fails with the
// SQLSTATE a client would see and leaves the table exactly as it was; a good write next to it
// shows the rule is not simply refusing everything. One file per domain; this is what they share.

export let db: TestDatabase;
export let world: Awaited<ReturnType<typeof createWorld>>;

/** A database of the file's own, with the fixtures' world in it, for the file that calls this. */
export function useSchemaDatabase() {
  beforeAll(async () => {
    db = await createTestDatabase();
    world = await createWorld(db.sql);
  });
  afterAll(async () => {
    await db?.drop();
  });
}

/** The database only checks the prefix; a real hash would cost argon2 time for nothing. */
export const ARGON2ID_HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA';

let seq = 0;
export const unique = (prefix: string) => `${prefix}${++seq}`;

/** Row count and a digest of every row, so an UPDATE that slipped through shows too. */
export async function snapshot(tables: string[]) {
  const out: Record<string, { rows: number; digest: string }> = {};
  for (const table of tables) {
    const { rows } = await db.sql.query(
      `SELECT count(*)::int AS rows, coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') AS digest FROM ${table} t`
    );
    out[table] = rows[0];
  }
  return out;
}

export async function failureOf(
  statement: string,
  params: unknown[] = [],
  client: pg.Pool | pg.PoolClient = db.sql
) {
  return client.query(statement, params).then(
    () => undefined,
    (error: unknown) => error as pg.DatabaseError
  );
}

/**
 * Runs `statement`, expects it to fail with `sqlstate` (and, when given, the named constraint),
 * and checks that `tables` hold exactly the rows they held before.
 */
export async function expectRejected(
  tables: string | string[],
  statement: string,
  params: unknown[],
  sqlstate: string,
  constraint?: string
) {
  const list = Array.isArray(tables) ? tables : [tables];
  const before = await snapshot(list);
  const error = await failureOf(statement, params);
  expect(error, `expected SQLSTATE ${sqlstate} from: ${statement}`).toBeInstanceOf(pg.DatabaseError);
  expect({ code: error!.code, constraint: error!.constraint }).toEqual({
    code: sqlstate,
    constraint: constraint ?? error!.constraint
  });
  expect(await snapshot(list)).toEqual(before);
}

export async function one<T = any>(statement: string, params: unknown[] = []): Promise<T> {
  const { rows } = await db.sql.query(statement, params);
  return rows[0] as T;
}

export const insertUser = `INSERT INTO users (email, name, password_hash, role, team_id) VALUES ($1, $2, $3, $4, $5) RETURNING id`;
export const insertCustomer = (columns: string) =>
  `INSERT INTO customers (email, first_name, ${columns}) VALUES ($1, 'Casey', $2) RETURNING id`;

export async function insertProduct(
  opts: { sku?: string; price?: number; stock?: number } = {}
): Promise<number> {
  const row = await one<{ id: number }>(
    `INSERT INTO products (sku, name, price, stock) VALUES ($1, 'Widget', $2, $3) RETURNING id`,
    [opts.sku ?? unique('SKU-'), opts.price ?? 10, opts.stock ?? 5]
  );
  return row.id;
}

export const insertOrder = (customerId: number, total = 25) => createOrder(db.sql, { customerId, total });
