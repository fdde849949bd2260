import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createCustomer, createLoyaltyAccount, createOrder, earnPoints } from '../support/fixtures.js';

// A refund takes back what its order moved in the loyalty ledger (loyalty_reverse_order), exactly
// once, however many refunds of the same order race, and the customer's tier forgets the order.

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}`;

interface Member {
  accountId: number;
  customerId: number;
}

async function newMember(): Promise<Member> {
  const customerId = await createCustomer(db.sql, `${unique('member')}@example.com`);
  return { customerId, accountId: await createLoyaltyAccount(db.sql, customerId) };
}

/** An order of `member` that earned `points`; returns the order and its earn entry. */
async function orderThatEarned(member: Member, points: number) {
  const orderId = await createOrder(db.sql, {
    customerId: member.customerId,
    total: points,
    status: 'shipped'
  });
  const earnId = await earnPoints(db.sql, {
    accountId: member.accountId,
    points,
    reason: `Earned on #${orderId}`,
    key: `order:${orderId}:earn`,
    orderId
  });
  return { orderId, earnId };
}

async function spend(member: Member, points: number) {
  await db.sql.query(
    `INSERT INTO loyalty_ledger (account_id, kind, points, reason, idempotency_key) VALUES ($1, 'redeem', $2, 'Voucher', $3)`,
    [member.accountId, -points, unique('redeem')]
  );
}

const reverseOrder = async (orderId: number, client: pg.Pool | pg.PoolClient = db.sql) =>
  (await client.query<{ net: number }>(`SELECT loyalty_reverse_order($1) AS net`, [orderId])).rows[0].net;

const account = async (member: Member) =>
  (
    await db.sql.query(`SELECT balance, lifetime_points, tier FROM loyalty_accounts WHERE id = $1`, [
      member.accountId
    ])
  ).rows[0];

/** Entries that take back `entryId` (a reversal or a clawback). */
const takenBack = async (entryId: number) =>
  (
    await db.sql.query(`SELECT kind, points FROM loyalty_ledger WHERE reverses_id = $1 ORDER BY id`, [
      entryId
    ])
  ).rows;

/** The balance is the sum of the ledger and never negative. */
async function expectBalanceIsLedger(member: Member) {
  const { rows } = await db.sql.query(
    `SELECT a.balance, (SELECT coalesce(sum(points), 0)::int FROM loyalty_ledger l WHERE l.account_id = a.id) AS ledger
       FROM loyalty_accounts a WHERE a.id = $1`,
    [member.accountId]
  );
  expect(rows[0].balance).toBe(rows[0].ledger);
  expect(rows[0].balance).toBeGreaterThanOrEqual(0);
}

/**
 * Runs `callers` reversals of one order side by side, each on its own connection, while another
 * transaction holds the member's account (a redemption in progress, say): every caller is queued
 * inside loyalty_reverse_order before any of them may go on. Returns what each call returned.
 */
async function racingReversals(member: Member, orderId: number, callers: number): Promise<number[]> {
  const holder = await db.sql.connect();
  const clients: pg.PoolClient[] = [];
  try {
    await holder.query('BEGIN');
    await holder.query(`SELECT 1 FROM loyalty_accounts WHERE id = $1 FOR NO KEY UPDATE`, [member.accountId]);
    for (let i = 0; i < callers; i++) clients.push(await db.sql.connect());
    const pids = await Promise.all(
      clients.map(async (c) => (await c.query(`SELECT pg_backend_pid() AS pid`)).rows[0].pid as number)
    );
    const calls = clients.map(async (client) => {
      await client.query('BEGIN');
      const net = await reverseOrder(orderId, client);
      await client.query('COMMIT');
      return net;
    });
    await vi.waitFor(
      async () => {
        const { rows } = await db.sql.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ANY($1) AND wait_event_type = 'Lock'`,
          [pids]
        );
        expect(rows[0].n).toBe(callers);
      },
      { timeout: 10_000, interval: 10 }
    );
    await holder.query('COMMIT');
    return await Promise.all(calls);
  } finally {
    await holder.query('ROLLBACK').catch(() => undefined);
    holder.release();
    for (const client of clients) client.release();
  }
}

describe('loyalty_reverse_order', () => {
  it('reverses an order once when two refunds of it race', async () => {
    const member = await newMember();
    const { orderId, earnId } = await orderThatEarned(member, 100);
    await orderThatEarned(member, 50);
    expect(await account(member)).toMatchObject({ balance: 150, lifetime_points: 150 });

    const nets = await racingReversals(member, orderId, 2);

    expect(nets.sort((a, b) => a - b)).toEqual([-100, 0]);
    expect(await takenBack(earnId)).toEqual([{ kind: 'reverse', points: -100 }]);
    expect(await account(member)).toEqual({ balance: 50, lifetime_points: 50, tier: 'bronze' });
    await expectBalanceIsLedger(member);
  });

  it('reverses an order once when eight refunds of it race, redeemed points included', async () => {
    const member = await newMember();
    const { orderId, earnId } = await orderThatEarned(member, 300);
    await orderThatEarned(member, 500);
    // 200 points were spent at this order's checkout; a refund gives them back.
    const { rows } = await db.sql.query<{ id: number }>(
      `INSERT INTO loyalty_ledger (account_id, kind, points, reason, order_id, idempotency_key) VALUES ($1, 'redeem', -200, 'Voucher', $2, $3) RETURNING id`,
      [member.accountId, orderId, unique('redeem')]
    );
    expect(await account(member)).toMatchObject({ balance: 600, lifetime_points: 800 });

    const nets = await racingReversals(member, orderId, 8);

    expect(nets.filter((n) => n !== 0)).toEqual([-100]); // +200 given back, -300 taken back
    expect(await takenBack(earnId)).toEqual([{ kind: 'reverse', points: -300 }]);
    expect(await takenBack(rows[0].id)).toEqual([{ kind: 'reverse', points: 200 }]);
    expect(await account(member)).toEqual({ balance: 500, lifetime_points: 500, tier: 'bronze' });
    await expectBalanceIsLedger(member);
  });

  it('takes back only what is left when some points were spent, and only once', async () => {
    const member = await newMember();
    const { orderId, earnId } = await orderThatEarned(member, 100);
    await spend(member, 80);

    expect(await reverseOrder(orderId)).toBe(-20);
    expect(await takenBack(earnId)).toEqual([{ kind: 'adjust', points: -20 }]);
    expect(await account(member)).toMatchObject({ balance: 0 });

    // Points earned later are not taken for the same refund.
    await orderThatEarned(member, 500);
    const entries = Number(
      (await db.sql.query(`SELECT count(*) FROM loyalty_ledger WHERE account_id = $1`, [member.accountId]))
        .rows[0].count
    );
    expect(await reverseOrder(orderId)).toBe(0);
    expect(
      Number(
        (await db.sql.query(`SELECT count(*) FROM loyalty_ledger WHERE account_id = $1`, [member.accountId]))
          .rows[0].count
      )
    ).toBe(entries);
    expect(await account(member)).toEqual({ balance: 500, lifetime_points: 500, tier: 'bronze' });
    await expectBalanceIsLedger(member);
  });

  it('drops lifetime points and the tier as if the refunded order never counted, spent points or not', async () => {
    const member = await newMember();
    const { orderId, earnId } = await orderThatEarned(member, 2500);
    await orderThatEarned(member, 600);
    expect(await account(member)).toEqual({ balance: 3100, lifetime_points: 3100, tier: 'silver' });
    // Oldest first: the refunded order's 2,500 are all spent, and 500 of the later 600.
    await spend(member, 3000);

    // The refund touches only its own lot, which is empty: the 100 left come from the other order.
    expect(await reverseOrder(orderId)).toBe(0);
    expect(await takenBack(earnId)).toEqual([{ kind: 'adjust', points: 0 }]);
    expect(await account(member)).toEqual({ balance: 100, lifetime_points: 600, tier: 'bronze' });
    const { rows: changes } = await db.sql.query(
      `SELECT from_tier, to_tier FROM loyalty_tier_changes WHERE account_id = $1 ORDER BY id`,
      [member.accountId]
    );
    expect(changes).toEqual([
      { from_tier: 'bronze', to_tier: 'silver' },
      { from_tier: 'silver', to_tier: 'bronze' }
    ]);
    await expectBalanceIsLedger(member);
  });

  it('records a refund whose points were all spent: nothing to take, but the order no longer counts', async () => {
    const member = await newMember();
    const { orderId, earnId } = await orderThatEarned(member, 2000);
    await spend(member, 2000);
    expect(await account(member)).toEqual({ balance: 0, lifetime_points: 2000, tier: 'silver' });

    expect(await reverseOrder(orderId)).toBe(0);
    expect(await takenBack(earnId)).toEqual([{ kind: 'adjust', points: 0 }]);
    expect(await account(member)).toEqual({ balance: 0, lifetime_points: 0, tier: 'bronze' });

    await orderThatEarned(member, 100);
    expect(await reverseOrder(orderId)).toBe(0);
    expect(await account(member)).toEqual({ balance: 100, lifetime_points: 100, tier: 'bronze' });
    await expectBalanceIsLedger(member);
  });

  it('refuses a clawback that takes more than the earning, or from anything but an earning', async () => {
    const member = await newMember();
    const { earnId } = await orderThatEarned(member, 100);
    await orderThatEarned(member, 400);
    const clawback = `INSERT INTO loyalty_ledger (account_id, kind, points, reason, reverses_id, idempotency_key) VALUES ($1, 'adjust', $2, 'Clawback', $3, $4)`;
    await expect(
      db.sql.query(clawback, [member.accountId, -101, earnId, unique('claw')])
    ).rejects.toMatchObject({
      code: '23514',
      constraint: 'loyalty_ledger_clawback'
    });
    await expect(
      db.sql.query(clawback, [member.accountId, 10, earnId, unique('claw')])
    ).rejects.toMatchObject({
      code: '23514',
      constraint: 'loyalty_ledger_clawback'
    });
    await spend(member, 50);
    const { rows } = await db.sql.query<{ id: number }>(
      `SELECT id FROM loyalty_ledger WHERE account_id = $1 AND kind = 'redeem'`,
      [member.accountId]
    );
    await expect(
      db.sql.query(clawback, [member.accountId, -10, rows[0].id, unique('claw')])
    ).rejects.toMatchObject({
      code: '23514',
      constraint: 'loyalty_ledger_clawback'
    });
    // A plain adjustment still moves points and still has to move some.
    await expect(
      db.sql.query(
        `INSERT INTO loyalty_ledger (account_id, kind, points, reason, idempotency_key) VALUES ($1, 'adjust', 0, 'Nothing', $2)`,
        [member.accountId, unique('adjust')]
      )
    ).rejects.toMatchObject({ code: '23514', constraint: 'loyalty_ledger_points_check' });
    expect(await account(member)).toEqual({ balance: 450, lifetime_points: 500, tier: 'bronze' });
  });
});
