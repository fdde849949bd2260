import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STARTING_PROGRAM, type ProgramConfig } from '#shared/schemas/loyalty-program.js';
import { poolDb } from '../../server/data/db.js';
import { ensureFresh } from '../../server/services/analytics/rollups.js';
import { replay as replayYear, termsOf } from '../../server/services/loyalty-program/replay.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createCustomer, createLoyaltyAccount } from '../support/fixtures.js';

// The impact preview replays category and product multipliers and bonuses (replay.ts), on a shop
// small enough to compute by hand. The version in force is the starting program (a point per
// dollar, nothing else); the draft multiplies category Shoes by 3, product Socks by 2 (its
// category Extras by 5, which the product's own multiplier beats), and gives 50 at sign-up, 25 on
// a birthday and 10 for a first review, with silver at 300 points.
//
// Ann (joined now, birthday known, reviewed this month) ordered, a month ago, 100.00 of which
// Boots 1 x 60.00 (Shoes) and Socks 2 x 20.00 (Extras):
//   in force: 100 points;  draft: 100 + 60 x (3 - 1) + 40 x (2 - 1) = 260, + 50 + 25 + 10 = 345.
// Bob (joined now) ordered 50.00 of Tea (no multiplier): in force 50; draft 50 + 50 = 100.
// Liability after: (345 - 100) + (100 - 50) = 295 points, 2.95 at a cent a point; Ann, at 345
// lifetime points under the draft, moves up to silver.

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  const sql = db.sql;
  const category = async (name: string) =>
    (await sql.query<{ id: number }>(`INSERT INTO categories (name) VALUES ($1) RETURNING id`, [name]))
      .rows[0].id;
  const product = async (sku: string, categoryId: number, price: number) =>
    (
      await sql.query<{ id: number }>(
        `INSERT INTO products (sku, name, category_id, price, stock) VALUES ($1, $1, $2, $3, 100) RETURNING id`,
        [sku, categoryId, price]
      )
    ).rows[0].id;
  const shoes = await category('Shoes');
  const extras = await category('Extras');
  const drinks = await category('Drinks');
  const boots = await product('BOOTS', shoes, 60);
  const socks = await product('SOCKS', extras, 20);
  const tea = await product('TEA', drinks, 50);

  const order = async (customerId: number, total: number, lines: [number, number, number][]) => {
    const { rows } = await sql.query<{ id: number }>(
      `INSERT INTO orders (customer_id, order_date, status, total) VALUES ($1, now() - interval '1 month', 'delivered', $2) RETURNING id`,
      [customerId, total]
    );
    for (const [productId, quantity, price] of lines)
      await sql.query(
        `INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES ($1, $2, $3, $4)`,
        [rows[0].id, productId, quantity, price]
      );
  };
  const ann = await createCustomer(sql, 'ann@example.com', 'Ann');
  await createLoyaltyAccount(sql, ann);
  await sql.query(`UPDATE customers SET birth_date = '1990-06-15' WHERE id = $1`, [ann]);
  await sql.query(`INSERT INTO reviews (customer_id, product_id, rating) VALUES ($1, $2, 5)`, [ann, boots]);
  await order(ann, 100, [
    [boots, 1, 60],
    [socks, 2, 20]
  ]);
  const bob = await createCustomer(sql, 'bob@example.com', 'Bob');
  await createLoyaltyAccount(sql, bob);
  await order(bob, 50, [[tea, 1, 50]]);

  draft = structuredClone(STARTING_PROGRAM);
  draft.earn.categoryMultipliers = [
    { categoryId: shoes, multiplier: 3 },
    { categoryId: extras, multiplier: 5 }
  ];
  draft.earn.productMultipliers = [{ productId: socks, multiplier: 2 }];
  draft.earn.bonuses = { signUp: 50, birthday: 25, firstReview: 10 };
  draft.tiers.levels[1].threshold = 300;
});
afterAll(async () => {
  await db?.drop();
});

let draft: ProgramConfig;

async function replay(current: ProgramConfig, next: ProgramConfig, steps = 1) {
  return poolDb(db.sql).transaction(async (t) => {
    await ensureFresh(t, 'UTC');
    return replayYear(t, 'UTC', termsOf(current), termsOf(next), { steps });
  });
}

describe('the impact preview', () => {
  it('replays multipliers (a product beating its category) and bonuses, to the point', async () => {
    const result = await replay(STARTING_PROGRAM, draft);
    expect(result.members).toBe(2);
    expect(result.liability).toEqual({
      before: { points: 0, value: '0.00' },
      after: { points: 295, value: '2.95' }
    });
    expect([result.up, result.down]).toEqual([1, 0]);
    expect(result.tiers.find((t) => t.tier === 'silver')).toEqual({ tier: 'silver', current: 0, draft: 1 });
  });

  it('gives the same answer replayed in ranges of members, one member a range', async () => {
    const whole = await replay(STARTING_PROGRAM, draft);
    const ranges = await replay(STARTING_PROGRAM, draft, 2);
    expect(ranges).toEqual(whole);
    expect(ranges.members).toBe(2);
  });

  it('moves nobody and nothing for a draft equal to the version in force', async () => {
    const result = await replay(draft, draft);
    expect([result.up, result.down]).toEqual([0, 0]);
    expect(result.liability.after.points).toBe(result.liability.before.points);
  });
});
