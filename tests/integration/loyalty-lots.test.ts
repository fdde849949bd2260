import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STARTING_PROGRAM } from '#shared/schemas/loyalty-program.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createCustomer, createLoyaltyAccount, createOrder } from '../support/fixtures.js';

// The ledger with lots: every earning is a lot, redemptions spend the oldest available points,
// expiry takes what is left of expired lots, a refund touches only its order's lot. Random
// histories run with several writers at once must keep: balance = ledger sum = open lots, never
// negative, pending points within the balance, each idempotency key once.

let db: TestDatabase;
const DAY = 86_400_000;

beforeAll(async () => {
  db = await createTestDatabase();
  // This database's program: a day's return window, points expiring a year after they were earned.
  await db.sql.query(
    `INSERT INTO loyalty_program_versions (status, config, effective_at, published_at) VALUES ('published', $1, '2001-01-01', now())`,
    [{ ...STARTING_PROGRAM, pendingDays: 1, expiry: { mode: 'after_earn', months: 12 } }]
  );
});
afterAll(async () => {
  await db?.drop();
});

let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}-${Math.random().toString(36).slice(2, 8)}`;

async function newMember() {
  const customerId = await createCustomer(db.sql, `${unique('lots')}@example.com`);
  return { customerId, accountId: await createLoyaltyAccount(db.sql, customerId) };
}

type Op =
  | { kind: 'earn'; order: number; points: number; age: 'now' | 'month' | 'old' }
  | { kind: 'redeem'; points: number; key: number }
  | { kind: 'adjust'; points: number; key: number }
  | { kind: 'refund'; order: number }
  | { kind: 'expire' }
  | { kind: 'release' };

const ORDERS = 4;
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('earn' as const),
    order: fc.integer({ min: 0, max: ORDERS - 1 }),
    points: fc.integer({ min: 1, max: 500 }),
    age: fc.constantFrom('now' as const, 'month' as const, 'old' as const)
  }),
  fc.record({
    kind: fc.constant('redeem' as const),
    points: fc.integer({ min: 1, max: 600 }),
    key: fc.integer({ min: 0, max: 3 })
  }),
  fc.record({
    kind: fc.constant('adjust' as const),
    points: fc.integer({ min: -300, max: 300 }).filter((n) => n !== 0),
    key: fc.integer({ min: 0, max: 3 })
  }),
  fc.record({ kind: fc.constant('refund' as const), order: fc.integer({ min: 0, max: ORDERS - 1 }) }),
  fc.record({ kind: fc.constant('expire' as const) }),
  fc.record({ kind: fc.constant('release' as const) })
);

/** Runs one operation on its own connection; a refusal the rules foresee (too few points) is fine. */
async function run(o: Op, accountId: number, orders: number[], run: string) {
  const age = { now: 0, month: 30 * DAY, old: 400 * DAY };
  try {
    switch (o.kind) {
      case 'earn':
        await db.sql.query(
          `INSERT INTO loyalty_ledger (account_id, kind, points, reason, order_id, idempotency_key, created_at)
           VALUES ($1, 'earn', $2, 'Earned', $3, $4, $5) ON CONFLICT (idempotency_key) DO NOTHING`,
          [
            accountId,
            o.points,
            orders[o.order],
            `order:${orders[o.order]}:earn`,
            new Date(Date.now() - age[o.age])
          ]
        );
        break;
      case 'redeem':
      case 'adjust':
        await db.sql.query(
          `INSERT INTO loyalty_ledger (account_id, kind, points, reason, idempotency_key)
           VALUES ($1, $2, $3, 'Test', $4) ON CONFLICT (idempotency_key) DO NOTHING`,
          [accountId, o.kind, o.kind === 'redeem' ? -o.points : o.points, `${run}:${o.kind}:${o.key}`]
        );
        break;
      case 'refund':
        await db.sql.query(`SELECT loyalty_reverse_order($1)`, [orders[o.order]]);
        break;
      case 'expire':
        await db.sql.query(`SELECT loyalty_expire_points()`);
        break;
      case 'release':
        await db.sql.query(`SELECT loyalty_release_pending()`);
        break;
    }
  } catch (err) {
    const e = err as pg.DatabaseError;
    if (e.code === '23514' && e.constraint === 'loyalty_accounts_balance_check') return;
    throw err;
  }
}

/** Everything that must hold for an account, whatever happened to it. */
async function expectConsistent(accountId: number) {
  const { rows } = await db.sql.query(
    `SELECT a.balance, a.pending, a.lifetime_points,
            (SELECT coalesce(sum(points), 0)::int FROM loyalty_ledger WHERE account_id = a.id) AS ledger,
            (SELECT coalesce(sum(remaining), 0)::int FROM loyalty_lots WHERE account_id = a.id) AS lots,
            (SELECT coalesce(sum(remaining), 0)::int FROM loyalty_lots WHERE account_id = a.id AND pending) AS pending_lots,
            (SELECT coalesce(sum(e.points), 0)::int FROM loyalty_ledger e WHERE e.account_id = a.id AND e.kind = 'earn'
                AND NOT EXISTS (SELECT 1 FROM loyalty_ledger r WHERE r.reverses_id = e.id)) AS lifetime
       FROM loyalty_accounts a WHERE a.id = $1`,
    [accountId]
  );
  const a = rows[0];
  expect(a.balance).toBe(a.ledger);
  expect(a.balance).toBe(a.lots);
  expect(a.balance).toBeGreaterThanOrEqual(0);
  expect(a.pending).toBe(a.pending_lots);
  expect(a.lifetime_points).toBe(a.lifetime);

  // Each lot holds its points less what its moves took, never below zero.
  const { rows: lots } = await db.sql.query(
    `SELECT l.id, l.points, l.remaining, l.points + coalesce(sum(m.points), 0)::int AS replayed
       FROM loyalty_lots l LEFT JOIN loyalty_lot_moves m ON m.lot_id = l.id
      WHERE l.account_id = $1 GROUP BY l.id`,
    [accountId]
  );
  for (const lot of lots) {
    expect(lot.remaining).toBe(lot.replayed);
    expect(lot.remaining).toBeGreaterThanOrEqual(0);
  }

  // Every entry moved exactly its points across lots (an opening counts as its lot's points).
  const { rows: entries } = await db.sql.query(
    `SELECT e.id, e.kind, e.points, e.reverses_id,
            coalesce((SELECT sum(m.points) FROM loyalty_lot_moves m WHERE m.entry_id = e.id), 0)::int
              + coalesce((SELECT l.points FROM loyalty_lots l WHERE l.entry_id = e.id), 0) AS moved,
            (SELECT array_agg(m.lot_id) FROM loyalty_lot_moves m WHERE m.entry_id = e.id) AS lots,
            (SELECT l.id FROM loyalty_lots l WHERE l.entry_id = e.reverses_id) AS target_lot
       FROM loyalty_ledger e WHERE e.account_id = $1`,
    [accountId]
  );
  for (const e of entries) {
    expect(e.moved, `entry ${e.id} (${e.kind})`).toBe(e.points);
    // A refund of an earning touches its order's lot and no other.
    if (e.reverses_id !== null && e.points <= 0 && e.points !== 0) {
      expect(e.lots.map(Number)).toEqual([Number(e.target_lot)]);
    }
  }

  // An expiry took only lots expired when it ran.
  const { rows: early } = await db.sql.query(
    `SELECT m.lot_id FROM loyalty_ledger e JOIN loyalty_lot_moves m ON m.entry_id = e.id JOIN loyalty_lots l ON l.id = m.lot_id
      WHERE e.account_id = $1 AND e.kind = 'expire' AND (l.expires_at IS NULL OR l.expires_at > e.created_at)`,
    [accountId]
  );
  expect(early).toEqual([]);
}

describe('the ledger with lots', () => {
  it('keeps balance = ledger sum = open lots under random concurrent histories', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(op, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 8 }),
        async (steps) => {
          const member = await newMember();
          const orders: number[] = [];
          for (let i = 0; i < ORDERS; i++)
            orders.push(
              await createOrder(db.sql, { customerId: member.customerId, total: 100, status: 'shipped' })
            );
          const runId = unique('run');
          // Each step's operations run side by side, each on its own connection.
          for (const step of steps)
            await Promise.all(step.map((o) => run(o, member.accountId, orders, runId)));
          await expectConsistent(member.accountId);
          // Each key was applied once.
          const { rows } = await db.sql.query(
            `SELECT count(*)::int AS n, count(DISTINCT idempotency_key)::int AS keys FROM loyalty_ledger WHERE account_id = $1`,
            [member.accountId]
          );
          expect(rows[0].n).toBe(rows[0].keys);
        }
      ),
      { numRuns: 25 }
    );
  }, 240_000);
});

describe('lots, one rule at a time', () => {
  const earn = async (accountId: number, points: number, orderId: number | null, ageDays: number) =>
    (
      await db.sql.query<{ id: string }>(
        `INSERT INTO loyalty_ledger (account_id, kind, points, reason, order_id, idempotency_key, created_at)
         VALUES ($1, 'earn', $2, 'Earned', $3, $4, $5) RETURNING id`,
        [accountId, points, orderId, unique('earn'), new Date(Date.now() - ageDays * DAY)]
      )
    ).rows[0].id;
  const lotsOf = async (accountId: number) =>
    (
      await db.sql.query(
        `SELECT points, remaining, pending FROM loyalty_lots WHERE account_id = $1 ORDER BY earned_at, id`,
        [accountId]
      )
    ).rows;
  const accountOf = async (accountId: number) =>
    (await db.sql.query(`SELECT balance, pending FROM loyalty_accounts WHERE id = $1`, [accountId])).rows[0];

  it('spends the oldest available lots first and never pending ones', async () => {
    const m = await newMember();
    const order = await createOrder(db.sql, { customerId: m.customerId, total: 50, status: 'paid' });
    await earn(m.accountId, 100, null, 60);
    await earn(m.accountId, 200, null, 30);
    await earn(m.accountId, 50, order, 0); // pending for a day
    expect(await accountOf(m.accountId)).toEqual({ balance: 350, pending: 50 });

    await db.sql.query(
      `INSERT INTO loyalty_ledger (account_id, kind, points, reason, idempotency_key) VALUES ($1, 'redeem', -150, 'Voucher', $2)`,
      [m.accountId, unique('redeem')]
    );
    expect(await lotsOf(m.accountId)).toEqual([
      { points: 100, remaining: 0, pending: false },
      { points: 200, remaining: 150, pending: false },
      { points: 50, remaining: 50, pending: true }
    ]);
    // 150 available, 50 pending: 200 is too much to redeem, and nothing changes.
    await expect(
      db.sql.query(
        `INSERT INTO loyalty_ledger (account_id, kind, points, reason, idempotency_key) VALUES ($1, 'redeem', -200, 'Voucher', $2)`,
        [m.accountId, unique('redeem')]
      )
    ).rejects.toMatchObject({ code: '23514', constraint: 'loyalty_accounts_balance_check' });
    expect(await accountOf(m.accountId)).toEqual({ balance: 200, pending: 50 });
  });

  it('cancels pending points when the order is refunded inside the window', async () => {
    const m = await newMember();
    const order = await createOrder(db.sql, { customerId: m.customerId, total: 80, status: 'paid' });
    await earn(m.accountId, 80, order, 0);
    expect(await accountOf(m.accountId)).toEqual({ balance: 80, pending: 80 });
    expect((await db.sql.query(`SELECT loyalty_reverse_order($1) AS net`, [order])).rows[0].net).toBe(-80);
    expect(await accountOf(m.accountId)).toEqual({ balance: 0, pending: 0 });
    expect(await lotsOf(m.accountId)).toEqual([{ points: 80, remaining: 0, pending: true }]);
  });

  it('expires exactly what is left of expired lots, once', async () => {
    const m = await newMember();
    await earn(m.accountId, 300, null, 400); // expired 35 days ago
    await earn(m.accountId, 100, null, 100);
    await db.sql.query(
      `INSERT INTO loyalty_ledger (account_id, kind, points, reason, idempotency_key) VALUES ($1, 'redeem', -120, 'Voucher', $2)`,
      [m.accountId, unique('redeem')]
    );
    await db.sql.query(`SELECT loyalty_expire_points()`);
    await db.sql.query(`SELECT loyalty_expire_points()`);
    const { rows } = await db.sql.query(
      `SELECT points FROM loyalty_ledger WHERE account_id = $1 AND kind = 'expire'`,
      [m.accountId]
    );
    expect(rows).toEqual([{ points: -180 }]);
    expect(await accountOf(m.accountId)).toEqual({ balance: 100, pending: 0 });
  });

  it('makes points available when their window has passed, and only then', async () => {
    const m = await newMember();
    const order = await createOrder(db.sql, { customerId: m.customerId, total: 40, status: 'paid' });
    const other = await createOrder(db.sql, { customerId: m.customerId, total: 60, status: 'paid' });
    await earn(m.accountId, 40, order, 2); // its window ended yesterday: available at once
    await earn(m.accountId, 60, other, 0.5); // half a day left
    expect(await accountOf(m.accountId)).toEqual({ balance: 100, pending: 60 });
    await db.sql.query(`SELECT loyalty_release_pending()`);
    expect(await accountOf(m.accountId)).toEqual({ balance: 100, pending: 60 });
    // Nobody but the release may make a lot available early.
    await expect(
      db.sql.query(`UPDATE loyalty_lots SET pending = false WHERE account_id = $1`, [m.accountId])
    ).rejects.toMatchObject({ code: '23514', constraint: 'loyalty_lots_ledger_only' });
    await expect(
      db.sql.query(`UPDATE loyalty_lots SET remaining = 0 WHERE account_id = $1`, [m.accountId])
    ).rejects.toMatchObject({ code: '23514', constraint: 'loyalty_lots_ledger_only' });
  });

  it('earns when an order is paid, by plain SQL, once, under the version in effect', async () => {
    const m = await newMember();
    const order = await createOrder(db.sql, { customerId: m.customerId, total: '123.45' });
    await db.sql.query(`UPDATE orders SET status = 'paid' WHERE id = $1`, [order]);
    await db.sql.query(`UPDATE orders SET status = 'shipped' WHERE id = $1`, [order]);
    const { rows } = await db.sql.query(
      `SELECT e.points, e.idempotency_key, v.number, l.pending
         FROM loyalty_ledger e JOIN loyalty_program_versions v ON v.id = e.program_version_id
         JOIN loyalty_lots l ON l.entry_id = e.id
        WHERE e.account_id = $1`,
      [m.accountId]
    );
    expect(rows).toEqual([{ points: 123, idempotency_key: `order:${order}:earn`, number: 2, pending: true }]);
  });

  it('keeps published versions as they are, and at most one draft', async () => {
    await expect(
      db.sql.query(`UPDATE loyalty_program_versions SET config = '{}' WHERE number = 1`)
    ).rejects.toMatchObject({
      code: '23001',
      constraint: 'loyalty_program_versions_immutable'
    });
    await expect(db.sql.query(`DELETE FROM loyalty_program_versions WHERE number = 1`)).rejects.toMatchObject(
      {
        code: '23001'
      }
    );
    const draft = { ...STARTING_PROGRAM, pendingDays: 3 };
    await db.sql.query(`INSERT INTO loyalty_program_versions (status, config) VALUES ('draft', $1)`, [draft]);
    await expect(
      db.sql.query(`INSERT INTO loyalty_program_versions (status, config) VALUES ('draft', $1)`, [draft])
    ).rejects.toMatchObject({ code: '23505', constraint: 'loyalty_program_versions_one_draft' });
    await db.sql.query(`DELETE FROM loyalty_program_versions WHERE status = 'draft'`);
  });
});
