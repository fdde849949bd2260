import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STARTING_PROGRAM, type ProgramConfig } from '#shared/schemas/loyalty-program.js';
import { poolDb } from '../../server/data/db.js';
import { runLoyaltySchedule } from '../../server/services/loyalty/schedule.js';
import { createTestDatabase, waitUntilWaitingForLock, type TestDatabase } from '../support/database.js';
import { createCustomer } from '../support/fixtures.js';

// Bonus events (migration 0031): the program in force gives 100 points at sign-up, 250 on a
// birthday and 40 for a first product review. Each is an earning (a lot) naming its version and
// its bonus, once per customer (once a year for birthdays) however often or concurrently the
// event is seen, and on the change log like any ledger entry.

let db: TestDatabase;
let versionId: number;
const BONUSES = { signUp: 100, birthday: 250, firstReview: 40 };

let seq = 0;
const email = (prefix: string) => `${prefix}-${++seq}@example.com`;

beforeAll(async () => {
  db = await createTestDatabase();
  const config: ProgramConfig = { ...STARTING_PROGRAM, earn: { ...STARTING_PROGRAM.earn, bonuses: BONUSES } };
  const { rows } = await db.sql.query<{ id: number }>(
    `INSERT INTO loyalty_program_versions (status, config, effective_at, published_at)
     VALUES ('published', $1, '2001-01-01', now()) RETURNING id`,
    [config]
  );
  versionId = rows[0].id;
});
afterAll(async () => {
  await db?.drop();
});

interface BonusEntry {
  id: string;
  points: number;
  bonus: string;
  idempotency_key: string;
  program_version_id: number;
  lot_points: number | null;
}

async function bonusEntries(customerId: number, bonus?: string): Promise<BonusEntry[]> {
  const { rows } = await db.sql.query<BonusEntry>(
    `SELECT l.id, l.points, l.bonus, l.idempotency_key, l.program_version_id, lot.points AS lot_points
       FROM loyalty_ledger l JOIN loyalty_accounts a ON a.id = l.account_id
       LEFT JOIN loyalty_lots lot ON lot.entry_id = l.id
      WHERE a.customer_id = $1 AND l.bonus IS NOT NULL AND ($2::text IS NULL OR l.bonus = $2)
      ORDER BY l.id`,
    [customerId, bonus ?? null]
  );
  return rows;
}

/** balance = ledger sum = open lots, for the customer's account. */
async function expectLedgerWhole(customerId: number, balance: number) {
  const { rows } = await db.sql.query(
    `SELECT a.balance, (SELECT sum(points) FROM loyalty_ledger WHERE account_id = a.id)::int AS ledger,
            (SELECT sum(remaining) FROM loyalty_lots WHERE account_id = a.id)::int AS lots
       FROM loyalty_accounts a WHERE a.customer_id = $1`,
    [customerId]
  );
  expect(rows[0]).toEqual({ balance, ledger: balance, lots: balance });
}

async function backendPid(client: pg.PoolClient) {
  return (await client.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`)).rows[0].pid;
}

describe('sign-up', () => {
  it('gives a new customer the bonus as an earning of the version in force, once', async () => {
    const customerId = await createCustomer(db.sql, email('new'));
    const [entry] = await bonusEntries(customerId);
    expect(entry).toMatchObject({
      points: 100,
      bonus: 'sign_up',
      idempotency_key: `bonus:sign_up:${customerId}`,
      program_version_id: versionId,
      lot_points: 100
    });
    // Seen again (a re-run, a replayed import): nothing more.
    const again = await db.sql.query(`SELECT loyalty_award_bonus($1, 'sign_up') AS id`, [customerId]);
    expect(again.rows[0].id).toBeNull();
    expect(await bonusEntries(customerId)).toHaveLength(1);
    await expectLedgerWhole(customerId, 100);
  });

  it('is on the change log like every ledger entry', async () => {
    const customerId = await createCustomer(db.sql, email('live'));
    const [entry] = await bonusEntries(customerId);
    const { rows } = await db.sql.query(
      `SELECT topic, customer_id FROM change_log WHERE topic = 'loyalty_entry' AND entity_id = $1`,
      [entry.id]
    );
    expect(rows).toEqual([{ topic: 'loyalty_entry', customer_id: customerId }]);
  });

  it('gives every customer of one multi-row insert theirs', async () => {
    const { rows } = await db.sql.query<{ id: number }>(
      `INSERT INTO customers (email, first_name) VALUES ($1, 'A'), ($2, 'B'), ($3, 'C') RETURNING id`,
      [email('bulk'), email('bulk'), email('bulk')]
    );
    for (const { id } of rows) expect(await bonusEntries(id, 'sign_up')).toHaveLength(1);
  });
});

describe('first review', () => {
  async function product(sku: string) {
    const { rows } = await db.sql.query<{ id: number }>(
      `INSERT INTO products (sku, name, price) VALUES ($1, $1, 10) RETURNING id`,
      [sku]
    );
    return rows[0].id;
  }

  it('is given once when two first reviews are written at the same time', async () => {
    const customerId = await createCustomer(db.sql, email('reviewer'));
    const [p1, p2, p3] = [await product('REV-1'), await product('REV-2'), await product('REV-3')];
    const a = await db.sql.connect();
    const b = await db.sql.connect();
    try {
      const pidB = await backendPid(b);
      await a.query('BEGIN');
      await b.query('BEGIN');
      await a.query(`INSERT INTO reviews (customer_id, product_id, rating) VALUES ($1, $2, 5)`, [
        customerId,
        p1
      ]);
      // b sees no other review (a has not committed), so it awards too, and waits on a's key.
      const second = b.query(`INSERT INTO reviews (customer_id, product_id, rating) VALUES ($1, $2, 4)`, [
        customerId,
        p2
      ]);
      await waitUntilWaitingForLock(db.sql, pidB);
      await a.query('COMMIT');
      await second;
      await b.query('COMMIT');
    } finally {
      a.release();
      b.release();
    }
    await db.sql.query(`INSERT INTO reviews (customer_id, product_id, rating) VALUES ($1, $2, 3)`, [
      customerId,
      p3
    ]);
    const entries = await bonusEntries(customerId, 'first_review');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ points: 40, idempotency_key: `bonus:first_review:${customerId}` });
    await expectLedgerWhole(customerId, 100 + 40);
  });

  it('is not given for a later review of a customer who reviewed before the bonus existed', async () => {
    const customerId = await createCustomer(db.sql, email('old-reviewer'));
    const p = await product('REV-OLD');
    await db.sql.query(`ALTER TABLE reviews DISABLE TRIGGER reviews_loyalty_first_review`);
    await db.sql.query(`INSERT INTO reviews (customer_id, product_id, rating) VALUES ($1, $2, 5)`, [
      customerId,
      p
    ]);
    await db.sql.query(`ALTER TABLE reviews ENABLE TRIGGER reviews_loyalty_first_review`);
    await db.sql.query(`INSERT INTO reviews (customer_id, product_id, rating) VALUES ($1, $2, 5)`, [
      customerId,
      await product('REV-NEW')
    ]);
    expect(await bonusEntries(customerId, 'first_review')).toHaveLength(0);
  });
});

describe('birthday', () => {
  it('is given by the schedule on the day, once a year, however many runs at once', async () => {
    const today = await db.sql.query<{ d: string; year: number }>(
      `SELECT (now() AT TIME ZONE 'UTC')::date::text AS d, date_part('year', now() AT TIME ZONE 'UTC')::int AS year`
    );
    const { d, year } = today.rows[0];
    const born = await createCustomer(db.sql, email('birthday'));
    const later = await createCustomer(db.sql, email('not-yet'));
    await db.sql.query(
      `UPDATE customers SET birth_date = ($2::date - interval '30 years')::date WHERE id = $1`,
      [born, d]
    );
    await db.sql.query(
      `UPDATE customers SET birth_date = ($2::date + interval '10 days' - interval '30 years')::date WHERE id = $1`,
      [later, d]
    );
    const runs = await Promise.all(
      [0, 1, 2].map(() => runLoyaltySchedule(poolDb(db.sql), { timezone: 'UTC' }))
    );
    expect(runs.reduce((n, r) => n + r.birthdays, 0)).toBe(1);
    const entries = await bonusEntries(born, 'birthday');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ points: 250, idempotency_key: `bonus:birthday:${born}:${year}` });
    expect(await bonusEntries(later, 'birthday')).toHaveLength(0);
    await expectLedgerWhole(born, 100 + 250);
  });

  it('counts a 29 February birthday on 28 February of a common year', async () => {
    const leapling = await createCustomer(db.sql, email('leap'));
    await db.sql.query(`UPDATE customers SET birth_date = '2000-02-29' WHERE id = $1`, [leapling]);
    const run = await db.sql.query(`SELECT loyalty_award_birthdays('UTC', '2026-02-28T12:00:00Z', 0) AS n`);
    expect(run.rows[0].n).toBeGreaterThanOrEqual(1);
    const entries = await bonusEntries(leapling, 'birthday');
    expect(entries.map((e) => e.idempotency_key)).toEqual([`bonus:birthday:${leapling}:2026`]);
  });
});

describe('a merge', () => {
  /** The survivor's bonus entries, each with what took it back (if anything). */
  async function bonusesAfterMerge(survivor: number) {
    const { rows } = await db.sql.query<{ bonus: string; points: number; taken_back: number | null }>(
      `SELECT l.bonus, l.points, (SELECT r.points FROM loyalty_ledger r WHERE r.reverses_id = l.id) AS taken_back
         FROM loyalty_ledger l JOIN loyalty_accounts a ON a.id = l.account_id
        WHERE a.customer_id = $1 AND l.bonus IS NOT NULL ORDER BY l.id`,
      [survivor]
    );
    return rows;
  }

  it('keeps one sign-up bonus and one birthday bonus a year, and takes back the other whole', async () => {
    const survivor = await createCustomer(db.sql, email('keep'));
    const merged = await createCustomer(db.sql, email('dup'));
    for (const id of [survivor, merged]) {
      await db.sql.query(`SELECT loyalty_award_bonus($1, 'birthday', '2026')`, [id]);
    }
    await db.sql.query(`SELECT loyalty_award_bonus($1, 'birthday', '2025')`, [merged]);
    await db.sql.query(`SELECT merge_customers($1, $2, '{}'::jsonb, NULL)`, [survivor, merged]);

    expect(await bonusesAfterMerge(survivor)).toEqual([
      { bonus: 'sign_up', points: 100, taken_back: null },
      { bonus: 'sign_up', points: 100, taken_back: -100 },
      { bonus: 'birthday', points: 250, taken_back: null },
      { bonus: 'birthday', points: 250, taken_back: -250 },
      { bonus: 'birthday', points: 250, taken_back: null } // 2025: only the merged customer had it
    ]);
    await expectLedgerWhole(survivor, 100 + 250 + 250);
    const { rows } = await db.sql.query(
      `SELECT a.lifetime_points FROM loyalty_accounts a WHERE a.customer_id = $1`,
      [survivor]
    );
    expect(rows[0].lifetime_points).toBe(600);
  });

  it('claws back only what is left of a repeated bonus already spent, and gives no second one later', async () => {
    const survivor = await createCustomer(db.sql, email('keep'));
    const merged = await createCustomer(db.sql, email('dup'));
    await db.sql.query(
      `INSERT INTO loyalty_ledger (account_id, kind, points, reason, idempotency_key)
       SELECT a.id, 'redeem', -60, 'Voucher', $2 FROM loyalty_accounts a WHERE a.customer_id = $1`,
      [merged, `spend:${merged}`]
    );
    await db.sql.query(`SELECT merge_customers($1, $2, '{}'::jsonb, NULL)`, [survivor, merged]);

    expect(await bonusesAfterMerge(survivor)).toEqual([
      { bonus: 'sign_up', points: 100, taken_back: null },
      { bonus: 'sign_up', points: 100, taken_back: -40 }
    ]);
    await expectLedgerWhole(survivor, 100);
    // The survivor holds a 2026 birthday bonus from the merged customer: the survivor's own
    // birthday that year gives nothing more.
    await db.sql.query(`SELECT loyalty_award_bonus($1, 'birthday', '2026')`, [merged]);
    const again = await db.sql.query(`SELECT loyalty_award_bonus($1, 'sign_up') AS id`, [survivor]);
    expect(again.rows[0].id).toBeNull();
    await expectLedgerWhole(survivor, 100);
  });

  it('gives the survivor no birthday bonus in a year the merged customer had one', async () => {
    const survivor = await createCustomer(db.sql, email('keep'));
    const merged = await createCustomer(db.sql, email('dup'));
    await db.sql.query(`SELECT loyalty_award_bonus($1, 'birthday', '2026')`, [merged]);
    await db.sql.query(`SELECT merge_customers($1, $2, '{}'::jsonb, NULL)`, [survivor, merged]);
    const late = await db.sql.query(`SELECT loyalty_award_bonus($1, 'birthday', '2026') AS id`, [survivor]);
    expect(late.rows[0].id).toBeNull();
    const next = await db.sql.query(`SELECT loyalty_award_bonus($1, 'birthday', '2027') AS id`, [survivor]);
    expect(next.rows[0].id).not.toBeNull();
    await expectLedgerWhole(survivor, 100 + 250 + 250);
  });
});

describe('a bonus the program turns off', () => {
  it('gives nothing and opens no account', async () => {
    const off: ProgramConfig = { ...STARTING_PROGRAM };
    await db.sql.query(
      `INSERT INTO loyalty_program_versions (status, config, effective_at, published_at) VALUES ('published', $1, now(), now())`,
      [off]
    );
    const customerId = await createCustomer(db.sql, email('off'));
    const { rows } = await db.sql.query(`SELECT 1 FROM loyalty_accounts WHERE customer_id = $1`, [
      customerId
    ]);
    expect(rows).toHaveLength(0);
  });
});
