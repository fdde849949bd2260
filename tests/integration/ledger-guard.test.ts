import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createCustomer, createLoyaltyAccount, earnPoints } from '../support/fixtures.js';

// Only the ledger moves a loyalty balance, whatever a SQL session sets or creates first.

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}`;

/** A member with 100 points; the account id. */
async function memberWith100Points(): Promise<number> {
  const accountId = await createLoyaltyAccount(
    db.sql,
    await createCustomer(db.sql, `${unique('member')}@example.com`)
  );
  await earnPoints(db.sql, { accountId, points: 100, reason: 'Welcome', key: unique('welcome') });
  return accountId;
}

/** Balance, lifetime points, tier and what the ledger sums to. */
const account = async (accountId: number) =>
  (
    await db.sql.query(
      `SELECT a.balance, a.lifetime_points, a.tier, (SELECT sum(points)::int FROM loyalty_ledger l WHERE l.account_id = a.id) AS ledger
         FROM loyalty_accounts a WHERE a.id = $1`,
      [accountId]
    )
  ).rows[0];

/** Runs `work` on a new connection (a psql session, say), closed afterwards with its settings and temporary tables. */
async function inSession<T>(work: (session: pg.Client) => Promise<T>): Promise<T> {
  const session = new pg.Client({ connectionString: db.url });
  await session.connect();
  try {
    return await work(session);
  } finally {
    await session.end();
  }
}

describe('the loyalty balance', () => {
  it('refuses a session that sets pulse.ledger_apply and then writes a balance itself', async () => {
    const accountId = await memberWith100Points();
    await inSession(async (session) => {
      await session.query(`SET pulse.ledger_apply = 'on'`);
      await expect(
        session.query(`UPDATE loyalty_accounts SET balance = 1000000, tier = 'platinum' WHERE id = $1`, [
          accountId
        ])
      ).rejects.toMatchObject({
        code: '23514',
        constraint: 'loyalty_accounts_ledger_only'
      });
      await session.query('BEGIN');
      await session.query(`SET LOCAL pulse.ledger_apply = 'on'`);
      await expect(
        session.query(`UPDATE loyalty_accounts SET lifetime_points = 50000 WHERE id = $1`, [accountId])
      ).rejects.toMatchObject({
        code: '23514',
        constraint: 'loyalty_accounts_ledger_only'
      });
      await session.query('ROLLBACK');
      const customer = await createCustomer(db.sql, `${unique('rich')}@example.com`);
      await expect(
        session.query(`INSERT INTO loyalty_accounts (customer_id, balance) VALUES ($1, 5000)`, [customer])
      ).rejects.toMatchObject({
        code: '23514',
        constraint: 'loyalty_accounts_ledger_only'
      });
    });
    expect(await account(accountId)).toEqual({
      balance: 100,
      lifetime_points: 100,
      tier: 'bronze',
      ledger: 100
    });
  });

  it('still follows the ledger for that session: its entries move the real balance', async () => {
    const accountId = await memberWith100Points();
    await inSession(async (session) => {
      await session.query(`SET pulse.ledger_apply = 'on'`);
      await session.query(
        `INSERT INTO loyalty_ledger (account_id, kind, points, reason, idempotency_key) VALUES ($1, 'redeem', -40, 'Voucher', $2)`,
        [accountId, unique('redeem')]
      );
    });
    expect(await account(accountId)).toEqual({
      balance: 60,
      lifetime_points: 100,
      tier: 'bronze',
      ledger: 60
    });
  });

  it('moves the real balance even when the session has a temporary table of the same name', async () => {
    const accountId = await memberWith100Points();
    await inSession(async (session) => {
      await session.query(
        `CREATE TEMPORARY TABLE loyalty_accounts (LIKE public.loyalty_accounts INCLUDING DEFAULTS)`
      );
      await session.query(`INSERT INTO loyalty_accounts (id, customer_id) VALUES ($1, 0)`, [accountId]);
      await session.query(
        `INSERT INTO loyalty_ledger (account_id, kind, points, reason, idempotency_key) VALUES ($1, 'adjust', 500, 'Goodwill', $2)`,
        [accountId, unique('goodwill')]
      );
      expect((await session.query(`SELECT balance FROM pg_temp.loyalty_accounts`)).rows).toEqual([
        { balance: 0 }
      ]);
    });
    expect(await account(accountId)).toEqual({
      balance: 600,
      lifetime_points: 100,
      tier: 'bronze',
      ledger: 600
    });
  });
});
