// DATABASE_URL=... npx tsx tests/bench/lists-plans.ts [--runs 20] [--explain]
//
// The CRM tables' queries straight through the list service (no HTTP) against a seeded database:
// first pages of typical filters and sorts, a page 10,000 rows deep, searches and footers.
// Prints p50/p95 per query, and with --explain the EXPLAIN (ANALYZE, BUFFERS) of each, for
// docs/performance.md. The database must be migrated (0014) and seeded (npm run db:seed).
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { User } from 'lucia';
import type { ListEntity, ListQuery } from '#shared/lists/query.js';
import { poolDb, type Db } from '../../server/data/db.js';
import { listRows, summarize } from '../../server/services/lists/rows.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    explain: { type: 'boolean', default: false },
    only: { type: 'string' }
  }
});
const RUNS = Number(values.runs);
const actor = { user: { id: 1, role: 'manager', teamId: null } as unknown as User, ip: null };

type Case = {
  name: string;
  entity: ListEntity;
  query: Partial<ListQuery>;
  kind?: 'page' | 'summary' | 'deep';
};
const day = (n: number) => new Date(Date.parse('2026-11-24') - n * 86_400_000).toISOString().slice(0, 10);
const CASES: Case[] = [
  { name: 'customers default (newest)', entity: 'customers', query: {} },
  {
    name: 'customers by lifetime spend desc',
    entity: 'customers',
    query: { sort: [{ field: 'lifetimeSpend', dir: 'desc' }] }
  },
  {
    name: 'customers by last order desc',
    entity: 'customers',
    query: { sort: [{ field: 'lastOrderAt', dir: 'desc' }] }
  },
  { name: 'customers by name', entity: 'customers', query: { sort: [{ field: 'name', dir: 'asc' }] } },
  {
    name: 'customers gold+ by spend',
    entity: 'customers',
    query: {
      sort: [{ field: 'lifetimeSpend', dir: 'desc' }],
      filter: { op: 'and', rules: [{ field: 'tier', operator: 'is_any_of', value: ['gold', 'platinum'] }] }
    }
  },
  {
    name: 'customers open ticket, newest',
    entity: 'customers',
    query: { filter: { op: 'and', rules: [{ field: 'hasOpenTicket', operator: 'is', value: true }] } }
  },
  {
    name: 'customers lapsed 90d spend>500',
    entity: 'customers',
    query: {
      sort: [{ field: 'lifetimeSpend', dir: 'desc' }],
      filter: {
        op: 'and',
        rules: [
          { field: 'lastOrderAt', operator: 'before_days_ago', value: 90 },
          { field: 'lifetimeSpend', operator: 'gt', value: '500' }
        ]
      }
    }
  },
  {
    name: 'customers consent+tag vip',
    entity: 'customers',
    query: {
      filter: {
        op: 'and',
        rules: [
          { field: 'marketingConsent', operator: 'is', value: true },
          { field: 'tags', operator: 'any', value: ['vip'] }
        ]
      }
    }
  },
  {
    name: 'customers orders>=10 by count',
    entity: 'customers',
    query: {
      sort: [
        { field: 'orderCount', dir: 'desc' },
        { field: 'name', dir: 'asc' }
      ],
      filter: { op: 'and', rules: [{ field: 'orderCount', operator: 'gte', value: 10 }] }
    }
  },
  { name: 'customers search name typo', entity: 'customers', query: { q: 'jonh smiht' } },
  { name: 'customers search email', entity: 'customers', query: { q: 'example.com' } },
  { name: 'customers search phone', entity: 'customers', query: { q: '555 01' } },
  {
    name: 'customers 10,000 deep (spend)',
    entity: 'customers',
    kind: 'deep',
    query: { sort: [{ field: 'lifetimeSpend', dir: 'desc' }] }
  },
  { name: 'orders default (newest)', entity: 'orders', query: {} },
  {
    name: 'orders refunded last 30d',
    entity: 'orders',
    query: {
      filter: {
        op: 'and',
        rules: [
          { field: 'status', operator: 'is_any_of', value: ['refunded'] },
          { field: 'orderDate', operator: 'in_last', value: 30 }
        ]
      }
    }
  },
  { name: 'orders by total desc', entity: 'orders', query: { sort: [{ field: 'total', dir: 'desc' }] } },
  {
    name: 'orders by customer name',
    entity: 'orders',
    query: { sort: [{ field: 'customerName', dir: 'asc' }] }
  },
  {
    name: 'orders mobile between dates by total',
    entity: 'orders',
    query: {
      sort: [{ field: 'total', dir: 'desc' }],
      filter: {
        op: 'and',
        rules: [
          { field: 'channel', operator: 'is_any_of', value: ['mobile'] },
          { field: 'orderDate', operator: 'between', value: [day(60), day(30)] }
        ]
      }
    }
  },
  {
    name: 'orders has ticket',
    entity: 'orders',
    query: { filter: { op: 'and', rules: [{ field: 'hasTicket', operator: 'is', value: true }] } }
  },
  { name: 'orders by items desc', entity: 'orders', query: { sort: [{ field: 'itemCount', dir: 'desc' }] } },
  { name: 'orders search customer', entity: 'orders', query: { q: 'jonh smiht' } },
  { name: 'orders search number', entity: 'orders', query: { q: '#123456' } },
  { name: 'orders 10,000 deep (date)', entity: 'orders', kind: 'deep', query: {} },
  { name: 'products by rating', entity: 'products', query: { sort: [{ field: 'ratingAvg', dir: 'desc' }] } },
  {
    name: 'products low stock',
    entity: 'products',
    query: {
      filter: { op: 'and', rules: [{ field: 'stockState', operator: 'is_any_of', value: ['low', 'out'] }] }
    }
  },
  { name: 'products search sku', entity: 'products', query: { q: 'KIT-00' } },
  { name: 'footer: all customers', entity: 'customers', kind: 'summary', query: {} },
  { name: 'footer: all orders', entity: 'orders', kind: 'summary', query: {} },
  {
    name: 'footer: orders last 30d',
    entity: 'orders',
    kind: 'summary',
    query: { filter: { op: 'and', rules: [{ field: 'orderDate', operator: 'in_last', value: 30 }] } }
  },
  {
    name: 'footer: customers gold+',
    entity: 'customers',
    kind: 'summary',
    query: {
      filter: { op: 'and', rules: [{ field: 'tier', operator: 'is_any_of', value: ['gold', 'platinum'] }] }
    }
  },
  // The cases bench:crm measured above target at 1M (docs/performance.md).
  { name: 'customers search phone 555-0194', entity: 'customers', query: { q: '555-0194' } },
  { name: 'orders search Isaac Hernandez', entity: 'orders', query: { q: 'Isaac Hernandez' } },
  {
    name: 'footer: orders mobile',
    entity: 'orders',
    kind: 'summary',
    query: { filter: { op: 'and', rules: [{ field: 'channel', operator: 'is_any_of', value: ['mobile'] }] } }
  }
];

const full = (entity: ListEntity, q: Partial<ListQuery>): ListQuery => ({
  sort:
    entity === 'products'
      ? [{ field: 'name', dir: 'asc' }]
      : [{ field: entity === 'orders' ? 'orderDate' : 'createdAt', dir: 'desc' }],
  limit: 50,
  ...q
});

/** A cursor 10,000 rows deep, walked once (not timed). */
async function deepCursor(db: Db, entity: ListEntity, q: ListQuery) {
  let cursor: string | undefined;
  for (let i = 0; i < 50; i++)
    cursor = (await listRows(db, actor, entity, { ...q, limit: 200, cursor })).nextCursor ?? undefined;
  return cursor;
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];

async function main() {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
  const db = poolDb(pool);
  const explained: string[] = [];
  // Capture the SQL of the last query for EXPLAIN.
  let lastSql: { sql: string; params: unknown[] } | null = null;
  const spy: Db = {
    query: (sql, params) => {
      if (!sql.startsWith('SELECT set_config')) lastSql = { sql, params: params ?? [] };
      return db.query(sql, params);
    },
    transaction: (work) =>
      db.transaction((t) =>
        work({
          query: (s, p) => {
            if (!s.startsWith('SELECT set_config')) lastSql = { sql: s, params: p ?? [] };
            return t.query(s, p);
          },
          transaction: t.transaction
        })
      )
  };
  const rows: string[][] = [];
  for (const c of CASES) {
    if (values.only && !c.name.includes(values.only)) continue;
    let q = full(c.entity, c.query);
    if (c.kind === 'deep') q = { ...q, cursor: await deepCursor(db, c.entity, q) };
    const run = () =>
      c.kind === 'summary' ? summarize(spy, actor, c.entity, q) : listRows(spy, actor, c.entity, q);
    await run();
    const times: number[] = [];
    let n = 0;
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const out = await run();
      times.push(performance.now() - t0);
      n = 'rows' in out ? out.rows.length : out.count;
    }
    rows.push([c.name, String(n), pct(times, 50).toFixed(1), pct(times, 95).toFixed(1)]);
    process.stdout.write(
      `${c.name.padEnd(42)} ${String(n).padStart(8)}  p50 ${pct(times, 50).toFixed(1).padStart(7)} ms  p95 ${pct(times, 95).toFixed(1).padStart(7)} ms\n`
    );
    if (values.explain && lastSql) {
      const s = lastSql as { sql: string; params: unknown[] };
      const plan = await db.transaction(async (t) => {
        if (c.query.q) await t.query(`SELECT set_config('pg_trgm.word_similarity_threshold', '0.4', true)`);
        return t.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${s.sql}`, s.params);
      });
      explained.push(`### ${c.name}\n${plan.map((r) => r['QUERY PLAN']).join('\n')}\n`);
    }
  }
  if (values.explain) process.stdout.write(`\n${explained.join('\n')}`);
  await pool.end();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
