import { describe, it, expect, vi } from 'vitest';
import { createCustomer, createLoyaltyAccount } from '../../support/fixtures.js';
import { db, unique, failureOf, expectRejected, one, useSchemaDatabase } from './schema-support.js';

useSchemaDatabase();

describe('loyalty', () => {
  const insertEntry = `INSERT INTO loyalty_ledger (account_id, kind, points, reason, idempotency_key, reverses_id)
                       VALUES ($1, $2, $3, 'test', $4, $5) RETURNING id`;
  const LOYALTY = ['loyalty_ledger', 'loyalty_accounts'];

  async function newAccount(): Promise<number> {
    const customer = await createCustomer(db.sql, unique('member') + '@example.com');
    return createLoyaltyAccount(db.sql, customer);
  }
  async function entry(
    accountId: number,
    kind: string,
    points: number,
    reversesId: number | null = null
  ): Promise<number> {
    return Number((await one(insertEntry, [accountId, kind, points, unique('key-'), reversesId])).id);
  }
  const account = (id: number) =>
    one(`SELECT balance, lifetime_points, tier FROM loyalty_accounts WHERE id = $1`, [id]);

  it('keeps the ledger append-only', async () => {
    const acc = await newAccount();
    const id = await entry(acc, 'earn', 100);
    await expectRejected(LOYALTY, `UPDATE loyalty_ledger SET points = 1000 WHERE id = $1`, [id], '23001');
    await expectRejected(LOYALTY, `DELETE FROM loyalty_ledger WHERE id = $1`, [id], '23001');
    await expectRejected(LOYALTY, `TRUNCATE loyalty_ledger CASCADE`, [], '23001');
  });

  it('moves balances only through the ledger', async () => {
    const acc = await newAccount();
    await entry(acc, 'earn', 100);
    await expectRejected(
      LOYALTY,
      `UPDATE loyalty_accounts SET balance = 999999, tier = 'platinum' WHERE id = $1`,
      [acc],
      '23514',
      'loyalty_accounts_ledger_only'
    );
    const customer = await createCustomer(db.sql, unique('rich') + '@example.com');
    await expectRejected(
      LOYALTY,
      `INSERT INTO loyalty_accounts (customer_id, balance) VALUES ($1, 5000)`,
      [customer],
      '23514',
      'loyalty_accounts_ledger_only'
    );
    expect(await account(acc)).toMatchObject({ balance: 100 });
  });

  it('refuses to reverse a reversal', async () => {
    const acc = await newAccount();
    const earned = await entry(acc, 'earn', 3000);
    const reversed = await entry(acc, 'reverse', -3000, earned);
    await expectRejected(
      LOYALTY,
      insertEntry,
      [acc, 'reverse', 3000, unique('key-'), reversed],
      '23514',
      'loyalty_ledger_reverse_exact'
    );
    expect(await account(acc)).toMatchObject({ balance: 0, lifetime_points: 0, tier: 'bronze' });
  });

  it('enforces the sign of each kind of entry', async () => {
    const acc = await newAccount();
    await entry(acc, 'earn', 500);
    await expectRejected(
      LOYALTY,
      insertEntry,
      [acc, 'earn', -10, unique('key-'), null],
      '23514',
      'loyalty_ledger_sign'
    );
    await expectRejected(
      LOYALTY,
      insertEntry,
      [acc, 'redeem', 10, unique('key-'), null],
      '23514',
      'loyalty_ledger_sign'
    );
    await expectRejected(
      LOYALTY,
      insertEntry,
      [acc, 'expire', 10, unique('key-'), null],
      '23514',
      'loyalty_ledger_sign'
    );
    await expectRejected(
      LOYALTY,
      insertEntry,
      [acc, 'adjust', 0, unique('key-'), null],
      '23514',
      'loyalty_ledger_points_check'
    );
    await expectRejected(LOYALTY, insertEntry, [acc, 'bonus', 10, unique('key-'), null], '22P02');
    // Adjustments go either way.
    await entry(acc, 'adjust', 20);
    await entry(acc, 'adjust', -30);
    await entry(acc, 'redeem', -40);
    expect(await account(acc)).toMatchObject({ balance: 450 });
    // An expiry takes expired points only (loyalty-lots.test.ts), and none have expired here.
    await expectRejected(
      LOYALTY,
      insertEntry,
      [acc, 'expire', -40, unique('key-'), null],
      '23514',
      'loyalty_ledger_expire_expired'
    );
  });

  it('needs a reversal to reference an entry, and only a reversal or a clawback may', async () => {
    const acc = await newAccount();
    const earned = await entry(acc, 'earn', 100);
    await expectRejected(
      LOYALTY,
      insertEntry,
      [acc, 'reverse', -100, unique('key-'), null],
      '23514',
      'loyalty_ledger_reverse_target'
    );
    await expectRejected(
      LOYALTY,
      insertEntry,
      [acc, 'earn', 100, unique('key-'), earned],
      '23514',
      'loyalty_ledger_reverse_target'
    );
    await expectRejected(
      LOYALTY,
      insertEntry,
      [acc, 'reverse', 50, unique('key-'), 999_999_999],
      '23503',
      'loyalty_ledger_reverses_id_fkey'
    );
  });

  it('needs a reversal to undo exactly the points of an entry of the same account', async () => {
    const acc = await newAccount();
    const other = await newAccount();
    const earned = await entry(acc, 'earn', 100);
    await entry(other, 'earn', 100);
    await expectRejected(
      LOYALTY,
      insertEntry,
      [acc, 'reverse', -50, unique('key-'), earned],
      '23514',
      'loyalty_ledger_reverse_exact'
    );
    await expectRejected(
      LOYALTY,
      insertEntry,
      [acc, 'reverse', 100, unique('key-'), earned],
      '23514',
      'loyalty_ledger_reverse_exact'
    );
    await expectRejected(
      LOYALTY,
      insertEntry,
      [other, 'reverse', -100, unique('key-'), earned],
      '23514',
      'loyalty_ledger_reverse_exact'
    );
    await entry(acc, 'reverse', -100, earned);
    expect(await account(acc)).toMatchObject({ balance: 0 });
  });

  it('reverses an entry only once', async () => {
    const acc = await newAccount();
    const earned = await entry(acc, 'earn', 300);
    await entry(acc, 'reverse', -300, earned);
    await entry(acc, 'earn', 300); // so that a second reversal would not fail on the balance instead
    await expectRejected(
      LOYALTY,
      insertEntry,
      [acc, 'reverse', -300, unique('key-'), earned],
      '23505',
      'loyalty_ledger_reverses_once'
    );
  });

  it('refuses a second entry with the same idempotency key', async () => {
    const acc = await newAccount();
    await db.sql.query(insertEntry, [acc, 'earn', 100, 'order-42-earn', null]);
    await expectRejected(
      LOYALTY,
      insertEntry,
      [acc, 'earn', 100, 'order-42-earn', null],
      '23505',
      'loyalty_ledger_idempotency_key'
    );
    expect(await account(acc)).toMatchObject({ balance: 100 });
  });

  it('refuses a redemption larger than the balance and leaves the balance as it was', async () => {
    const acc = await newAccount();
    await entry(acc, 'earn', 100);
    await expectRejected(
      LOYALTY,
      insertEntry,
      [acc, 'redeem', -101, unique('key-'), null],
      '23514',
      'loyalty_accounts_balance_check'
    );
    await expectRejected(
      LOYALTY,
      insertEntry,
      [acc, 'adjust', -101, unique('key-'), null],
      '23514',
      'loyalty_accounts_balance_check'
    );
    expect(await account(acc)).toMatchObject({ balance: 100 });
    await entry(acc, 'redeem', -100);
    expect(await account(acc)).toMatchObject({ balance: 0 });
  });

  it('maintains balance, lifetime points and tier from the ledger', async () => {
    const acc = await newAccount();
    expect(await account(acc)).toEqual({ balance: 0, lifetime_points: 0, tier: 'bronze' });
    const big = await entry(acc, 'earn', 2500);
    expect(await account(acc)).toEqual({ balance: 2500, lifetime_points: 2500, tier: 'silver' });
    const redeemed = await entry(acc, 'redeem', -400);
    expect(await account(acc)).toEqual({ balance: 2100, lifetime_points: 2500, tier: 'silver' });
    await entry(acc, 'earn', 600);
    // Reversing a redemption gives the points back but earns nothing.
    await entry(acc, 'reverse', 400, redeemed);
    expect(await account(acc)).toEqual({ balance: 3100, lifetime_points: 3100, tier: 'silver' });
    // Reversing an earning (a refund) takes it out of lifetime points too, and the tier follows.
    await entry(acc, 'reverse', -2500, big);
    expect(await account(acc)).toEqual({ balance: 600, lifetime_points: 600, tier: 'bronze' });
  });

  it('lets exactly one of two redemptions through when together they exceed the balance', async () => {
    const acc = await newAccount();
    await entry(acc, 'earn', 100);
    const first = await db.sql.connect();
    const second = await db.sql.connect();
    try {
      const secondPid = (await second.query(`SELECT pg_backend_pid() AS pid`)).rows[0].pid;
      await first.query('BEGIN');
      await second.query('BEGIN');
      await first.query(insertEntry, [acc, 'redeem', -70, 'race-first', null]);
      // The second redemption must queue behind the first one's lock on the account row.
      const secondInsert = failureOf(insertEntry, [acc, 'redeem', -70, 'race-second', null], second);
      await vi.waitFor(
        async () => {
          const { rows } = await db.sql.query(`SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1`, [
            secondPid
          ]);
          expect(rows[0]?.wait_event_type).toBe('Lock');
        },
        { timeout: 5000, interval: 10 }
      );
      await first.query('COMMIT');
      const error = await secondInsert;
      expect({ code: error?.code, constraint: error?.constraint }).toEqual({
        code: '23514',
        constraint: 'loyalty_accounts_balance_check'
      });
      await second.query('ROLLBACK');
    } finally {
      first.release();
      second.release();
    }
    expect(await account(acc)).toMatchObject({ balance: 30 });
    const keys = (
      await db.sql.query(
        `SELECT idempotency_key FROM loyalty_ledger WHERE account_id = $1 AND kind = 'redeem'`,
        [acc]
      )
    ).rows;
    expect(keys).toEqual([{ idempotency_key: 'race-first' }]);
  });

  it('lets exactly one of two redemptions through when they race freely', async () => {
    const acc = await newAccount();
    await entry(acc, 'earn', 100);
    const redeem = async (key: string) => {
      const client = await db.sql.connect();
      try {
        await client.query('BEGIN');
        await client.query(insertEntry, [acc, 'redeem', -60, key, null]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
    };
    const outcomes = await Promise.allSettled([redeem('free-race-a'), redeem('free-race-b')]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toMatchObject({ code: '23514', constraint: 'loyalty_accounts_balance_check' });
    expect(await account(acc)).toMatchObject({ balance: 40 });
  });
});
