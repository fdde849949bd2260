import { Readable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suggestMapping } from '#shared/schemas/imports.js';
import { runImport, type Rejected, type Totals } from '../../server/services/integrations/import/pipeline.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

// A customer import given more connections applies its batches side by side, one a connection
// (docs/decisions.md, "Imports"): the result is the one of applying them one after the other, the
// progress and rejects still come in file order, and each new customer has its one change_log row
// (what its `customer.created` webhook is made of).

let db: TestDatabase;
let client: pg.Client;
const appliers: pg.Client[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  for (let i = 0; i < 2; i++) {
    appliers.push(new pg.Client({ connectionString: db.url }));
    await appliers[i].connect();
  }
});
afterAll(async () => {
  for (const c of [client, ...appliers]) await c?.end();
  await db?.drop();
});

const CSV = { format: 'csv', encoding: 'utf-8', delimiter: ',', header: true } as const;

async function importFile(csv: string, dryRun: boolean) {
  const batches: { totals: Totals; rejects: Rejected[] }[] = [];
  const totals = await runImport({
    client,
    appliers,
    entity: 'customers',
    options: { ...CSV, mapping: suggestMapping('customers', ['email', 'first_name', 'marketing_consent']) },
    source: Readable.from([Buffer.from(csv)]),
    dryRun,
    batchSize: 4,
    onBatch: (t, rejects) => void batches.push({ totals: t, rejects })
  });
  return { totals, batches };
}

describe('a customer import on several connections', () => {
  it('applies batches side by side with the result, progress and change log of one after the other', async () => {
    await db.sql.query(`INSERT INTO customers (email, first_name) VALUES ('known@par.test', 'Old')`);
    const lines = Array.from({ length: 30 }, (_, i) => `p${i}@par.test,P${i},${i % 3 === 0 ? 'yes' : 'no'}`);
    lines.splice(10, 0, 'P3@PAR.TEST,Again,no'); // line 12 repeats line 5
    lines.splice(20, 0, 'not an email,X,no'); // line 22
    lines.push('known@par.test,New,no'); // line 33 updates
    const csv = 'email,first_name,marketing_consent\n' + lines.join('\n') + '\n';

    const dry = await importFile(csv, true);
    expect(dry.totals).toMatchObject({ rows: 33, imported: 30, updated: 1, rejected: 2 });
    expect(
      (await db.sql.query(`SELECT count(*)::int AS n FROM customers WHERE email LIKE '%@par.test'`)).rows[0].n
    ).toBe(1);

    const before = (await db.sql.query(`SELECT coalesce(max(id), 0) AS id FROM change_log`)).rows[0].id;
    const run = await importFile(csv, false);
    expect(run.totals).toMatchObject({ rows: 33, imported: 30, updated: 1, unchanged: 0, rejected: 2 });
    // Every batch's counts and rejects, in file order.
    const rows = run.batches.map((b) => b.totals.rows);
    expect(rows).toEqual([...rows].sort((a, b) => a - b));
    expect(run.batches.at(-1)!.totals).toMatchObject({ imported: 30, updated: 1, rejected: 2 });
    expect(run.batches.flatMap((b) => b.rejects.map((r) => r.line))).toEqual([12, 22]);
    // Both connections applied batches (each has the staging table only the batches use).
    for (const applier of appliers)
      expect(
        (await applier.query(`SELECT to_regclass('pg_temp.import_stage_customers') IS NOT NULL AS staged`))
          .rows[0].staged
      ).toBe(true);

    const { rows: customers } = await db.sql.query<{ email: string; first_name: string; consent: boolean }>(
      `SELECT email, first_name, marketing_consent AS consent FROM customers WHERE email LIKE '%@par.test'`
    );
    expect(customers).toHaveLength(31);
    expect(customers.find((c) => c.email === 'known@par.test')?.first_name).toBe('New');
    expect(customers.filter((c) => c.consent)).toHaveLength(10);
    // One `customer` insert in the change log for each new customer, and one consent row each.
    const { rows: changes } = await db.sql.query<{ n: number; customers: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT entity_id)::int AS customers
         FROM change_log WHERE id > $1 AND topic = 'customer' AND op = 'insert'`,
      [before]
    );
    expect(changes[0]).toEqual({ n: 30, customers: 30 });
    expect(
      (
        await db.sql.query(
          `SELECT count(*)::int AS n FROM customer_consents k JOIN customers c ON c.id = k.customer_id
            WHERE c.email LIKE '%@par.test'`
        )
      ).rows[0].n
    ).toBe(10);

    // The same file again changes nothing, so nothing reaches the change log.
    const written = (await db.sql.query(`SELECT max(id) AS id FROM change_log`)).rows[0].id;
    const again = await importFile(csv, false);
    expect(again.totals).toMatchObject({ imported: 0, updated: 0, unchanged: 31, rejected: 2 });
    expect((await db.sql.query(`SELECT max(id) AS id FROM change_log`)).rows[0].id).toBe(written);
  }, 120_000);
});
