import { describe, expect, it } from 'vitest';
import { db, useSchemaDatabase } from './schema-support.js';

useSchemaDatabase();

// customer_country() answers the lists' Country column, filter and sort (and its expression index):
// migration 0040 reads one or two addresses directly instead of through a set-returning subquery.
// Its answer, or its error, must be the one of 0014's definition, written out again here.
const ORIGINAL = `coalesce(
  (SELECT a ->> 'country' FROM jsonb_array_elements(addresses) a WHERE (a ->> 'default')::boolean LIMIT 1),
  addresses -> 0 ->> 'country')`;

const address = (country: string | null, isDefault?: unknown) => ({
  line1: '1 Main St',
  ...(country === null ? {} : { country }),
  ...(isDefault === undefined ? {} : { default: isDefault })
});

const SHAPES: unknown[] = [
  null,
  [],
  [address('US', true)],
  [address('US', false)],
  [address('US')],
  [address(null, true)],
  [address('US', null)],
  [address('FR', false), address('DE', true)],
  [address('FR', true), address('DE', true)],
  [address('FR'), address('DE')],
  [address('FR', false), address(null, true)],
  [address(null, false), address('DE', true)],
  [address('FR', 'yes'), address('DE', true)],
  [address('FR', 'off'), address('DE', 'on')],
  [address('FR', 1), address('DE', 0)],
  [address('FR', true), address('DE', 'not a boolean')],
  [address('FR', 'not a boolean'), address('DE', true)],
  [address('FR', false), address('DE', 'not a boolean')],
  [address('FR'), address('DE'), address('IT', true)],
  [address('FR'), address('DE', false), address('IT', false), address('ES', true)],
  [address('FR', 'not a boolean'), address('DE'), address('IT')],
  ['a string', address('DE', true)],
  [[1, 2], { country: 'NL' }],
  [{ country: 'NL', default: true }],
  { country: 'US', default: true },
  'US',
  42
];

/** What `sql` gives for the jsonb `shape` bound as `$1` (JavaScript null as SQL NULL): its value or its SQLSTATE. */
async function outcome(sql: string, shape: unknown) {
  return db.sql
    .query<{ country: string | null }>(`SELECT ${sql} AS country`, [
      shape === null ? null : JSON.stringify(shape)
    ])
    .then(
      ({ rows }) => ({ country: rows[0].country }),
      (err: { code?: string }) => ({ error: err.code })
    );
}

describe('customer_country', () => {
  it.each(SHAPES.map((shape) => [JSON.stringify(shape), shape]))(
    'answers %s as the original definition does',
    async (_, shape) => {
      const expected = await outcome(ORIGINAL.replaceAll('addresses', '($1::jsonb)'), shape);
      expect(await outcome('customer_country($1::jsonb)', shape)).toEqual(expected);
    }
  );

  it('is inlined into the query for one or two addresses, not run as a function each row', async () => {
    const { rows } = await db.sql.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (VERBOSE, COSTS OFF) SELECT customer_country(c.addresses) FROM customers c`
    );
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(plan).toContain('jsonb_array_length(addresses)');
    expect(plan).not.toMatch(/\bcustomer_country\(/);
  });

  it('still sorts and filters by country through its expression index', async () => {
    const client = await db.sql.connect();
    try {
      // The fixtures' few customers would be read whole; what matters is that the index still applies.
      await client.query(`SET enable_seqscan = off`);
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN (COSTS OFF) SELECT id FROM customers
          WHERE coalesce(customer_country(addresses), '') = 'US' ORDER BY coalesce(customer_country(addresses), ''), id`
      );
      expect(rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('customers_list_country_idx');
    } finally {
      await client.query(`RESET enable_seqscan`);
      client.release();
    }
  });
});
