import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STARTING_PROGRAM, type ProgramConfig, type TierRules } from '#shared/schemas/loyalty-program.js';
import { poolDb } from '../../server/data/db.js';
import { runLoyaltySchedule } from '../../server/services/loyalty/schedule.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createCustomer, createLoyaltyAccount, createOrder, earnPoints } from '../support/fixtures.js';

// Tiers on the basis of the version in force (migration 0031): lifetime points, points of the
// last 12 months, or whole currency units spent in the last 12 months, against that version's
// thresholds (silver 100, gold 500, platinum 1,000 here). The ledger applies it on every entry;
// the schedule brings everyone up to date when a version takes effect or a window moves on,
// each change on the change log.

let db: TestDatabase;

const levels = (basis: TierRules['basis']): TierRules => ({
  basis,
  levels: STARTING_PROGRAM.tiers.levels.map((l, i) => ({ ...l, threshold: [0, 100, 500, 1000][i] }))
});

/** Publishes a version in force from now on. */
async function publish(basis: TierRules['basis']) {
  const config: ProgramConfig = { ...STARTING_PROGRAM, tiers: levels(basis) };
  await db.sql.query(
    `INSERT INTO loyalty_program_versions (status, config, effective_at, published_at) VALUES ('published', $1, now(), now())`,
    [config]
  );
}

let seq = 0;
async function newMember() {
  const customerId = await createCustomer(db.sql, `tiers-${++seq}@example.com`);
  return { customerId, accountId: await createLoyaltyAccount(db.sql, customerId) };
}

async function tierOf(accountId: number) {
  const { rows } = await db.sql.query<{ tier: string }>(`SELECT tier FROM loyalty_accounts WHERE id = $1`, [
    accountId
  ]);
  return rows[0].tier;
}

/** An earning dated `age` ago (the ledger takes a past date from an import). */
async function earnedAgo(accountId: number, points: number, age: string) {
  const { rows } = await db.sql.query<{ id: string }>(
    `INSERT INTO loyalty_ledger (account_id, kind, points, reason, idempotency_key, created_at)
     VALUES ($1, 'earn', $2, 'Imported', $3, now() - $4::interval) RETURNING id`,
    [accountId, points, `import:${accountId}:${points}:${age}`, age]
  );
  return rows[0].id;
}

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('points of the last 12 months', () => {
  it('counts only the window, and forgets an earning its refund took back', async () => {
    await publish('points_12m');
    const m = await newMember();
    await earnedAgo(m.accountId, 900, '13 months');
    expect(await tierOf(m.accountId)).toBe('bronze'); // 900 lifetime, none of it this year
    const recent = await earnPoints(db.sql, {
      accountId: m.accountId,
      points: 150,
      reason: 'Order',
      key: `t:${m.accountId}`
    });
    expect(await tierOf(m.accountId)).toBe('silver'); // 150 this year (1,050 lifetime would be platinum)
    await db.sql.query(
      `INSERT INTO loyalty_ledger (account_id, kind, points, reason, reverses_id, idempotency_key)
       VALUES ($1, 'reverse', -150, 'Refund', $2, $3)`,
      [m.accountId, recent, `t:${m.accountId}:reverse`]
    );
    expect(await tierOf(m.accountId)).toBe('bronze');
  });

  it('drops a member once their earning leaves the window, by the schedule, on the change log', async () => {
    await publish('points_12m');
    const m = await newMember();
    // Leaves the 12 months in about two seconds.
    await earnedAgo(m.accountId, 600, '12 months -2 seconds');
    expect(await tierOf(m.accountId)).toBe('gold');
    const deadline = Date.now() + 15_000;
    while ((await tierOf(m.accountId)) !== 'bronze') {
      if (Date.now() > deadline) throw new Error('the tier never dropped');
      await runLoyaltySchedule(poolDb(db.sql));
    }
    const { rows } = await db.sql.query(
      `SELECT c.from_tier, c.to_tier, c.entry_id,
              EXISTS (SELECT 1 FROM change_log l WHERE l.topic = 'loyalty_tier_change' AND l.entity_id = c.id) AS logged
         FROM loyalty_tier_changes c WHERE c.account_id = $1 ORDER BY c.id`,
      [m.accountId]
    );
    expect(rows.at(-1)).toEqual({ from_tier: 'gold', to_tier: 'bronze', entry_id: null, logged: true });
  });
});

describe('spend of the last 12 months', () => {
  it('counts paid orders of the window, whole currency units, when an order is paid', async () => {
    await publish('spend_12m');
    const m = await newMember();
    await db.sql.query(
      `INSERT INTO orders (customer_id, order_date, status, total) VALUES
         ($1, now() - interval '2 months', 'delivered', 60.50),
         ($1, now() - interval '14 months', 'delivered', 5000),
         ($1, now() - interval '1 month', 'refunded', 5000),
         ($1, now() - interval '1 day', 'cancelled', 5000)`,
      [m.customerId]
    );
    const order = await createOrder(db.sql, { customerId: m.customerId, total: '39.49' });
    expect(await tierOf(m.accountId)).toBe('bronze');
    // Paying it earns its points; 60.50 + 39.49 = 99.99 is 99 whole units: still bronze.
    await db.sql.query(`UPDATE orders SET status = 'paid' WHERE id = $1`, [order]);
    expect(await tierOf(m.accountId)).toBe('bronze');
    const more = await createOrder(db.sql, { customerId: m.customerId, total: '0.99' });
    await db.sql.query(`UPDATE orders SET status = 'paid' WHERE id = $1`, [more]);
    expect(await tierOf(m.accountId)).toBe('silver'); // 100.98
    // Refunding the small one takes its spend back out of the window.
    await db.sql.query(`UPDATE orders SET status = 'refunded' WHERE id = $1`, [more]);
    expect(await tierOf(m.accountId)).toBe('bronze');
  });
});

describe('a version that changes the basis', () => {
  it('moves every member to the tier it gives when it takes effect, by the schedule', async () => {
    await publish('points_lifetime');
    const m = await newMember();
    await earnedAgo(m.accountId, 700, '2 years');
    expect(await tierOf(m.accountId)).toBe('gold');
    await publish('points_12m');
    const run = await runLoyaltySchedule(poolDb(db.sql));
    expect(run.tiers).toBeGreaterThanOrEqual(1);
    expect(await tierOf(m.accountId)).toBe('bronze');
    // Nothing left to move: a second run changes nothing.
    expect((await runLoyaltySchedule(poolDb(db.sql))).tiers).toBe(0);
  });

  it('refuses a tier written by hand that the program does not give', async () => {
    const m = await newMember();
    await expect(
      db.sql.query(`UPDATE loyalty_accounts SET tier = 'platinum' WHERE id = $1`, [m.accountId])
    ).rejects.toThrow(/only through loyalty_ledger/);
  });
});
