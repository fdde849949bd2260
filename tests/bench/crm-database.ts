// The database of `npm run bench:crm`: an embedded Postgres whose data directory is kept between
// runs (the seed is the slow part), or DATABASE_URL.
//
// Seeding: the demo seed (db/seed) writes ~5,500 customers a minute on a busy 2-core machine, three
// hours for a million. So the demo seed makes a base of BASE_CUSTOMERS customers (with their orders,
// items, tickets, loyalty), and SQL copies it: copy k of base customer b is customer b + k * n0 (a
// distinct email), copy k of base order o is order o + k * m0 of customer copy (k mod customer
// copies), with its items. Copies are inserted without triggers (session_replication_role = replica)
// and with the secondary indexes dropped, then the indexes are rebuilt and the summary tables
// (customer_stats, order_stats) are filled exactly as migration 0014's backfill does.
import { existsSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../db/embedded.js';
import { migrateDatabase } from '../../db/migrate.js';
import { seedDemoData } from '../../db/seed/index.js';
import { poolDb } from '../../server/data/db.js';
import { refreshRollups } from '../../server/services/analytics/rollups.js';

const BASE_CUSTOMERS = 10_000;

/** Settings of a server with memory to spare for 6M rows; applied once, when the cluster is created. */
const TUNING: Record<string, string> = {
  shared_buffers: "'1GB'",
  effective_cache_size: "'4GB'",
  work_mem: "'16MB'",
  maintenance_work_mem: "'512MB'",
  max_wal_size: "'4GB'",
  random_page_cost: '1.1',
  jit: 'off'
};

/** Tables the copies go into; their secondary indexes are dropped and rebuilt around the copy. */
const COPIED = ['customers', 'loyalty_accounts', 'orders', 'order_items', 'customer_stats', 'order_stats'];

export interface CrmDatabase {
  url: string;
  /** Seconds the seed took in this run, or null when the data was already there. */
  seedSeconds: number | null;
  dir: string | null;
  stop(): Promise<void>;
}

export async function crmDatabase(opts: {
  customers: number;
  orders: number;
  port: number;
  root: string;
  say: (msg: string) => void;
}): Promise<CrmDatabase> {
  const { say } = opts;
  let url = process.env.DATABASE_URL;
  let dir: string | null = null;
  let stop = async (): Promise<void> => undefined;
  if (!url) {
    dir = path.join(opts.root, `c${opts.customers}-o${opts.orders}`);
    const fresh = !existsSync(path.join(dir, 'PG_VERSION'));
    say(`Embedded Postgres in ${dir} (port ${opts.port})${fresh ? ', new cluster' : ''}...`);
    let db = await startEmbeddedPostgres({ dir, port: opts.port, fast: true });
    if (db.created) {
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      for (const [k, v] of Object.entries(TUNING)) await c.query(`ALTER SYSTEM SET ${k} = ${v}`);
      await c.end();
      await db.stop();
      db = await startEmbeddedPostgres({ dir, port: opts.port, fast: true });
    }
    url = db.url;
    stop = () => db.stop();
  }
  await migrateDatabase(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let seedSeconds: number | null = null;
  try {
    const count = async (table: string) =>
      (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;
    const have = await count('customers');
    if (have === 0) {
      const t0 = performance.now();
      const base = Math.min(BASE_CUSTOMERS, opts.customers);
      say(`Demo seed: ${base.toLocaleString('en')} base customers...`);
      await seedDemoData(url, { customers: base, progress: false, log: say });
      await amplify(client, opts.customers, opts.orders, say);
      await rebuildRollups(url, say);
      seedSeconds = (performance.now() - t0) / 1000;
      say(`Seeded in ${seedSeconds.toFixed(0)} s.`);
    } else {
      say(
        `Reusing ${have.toLocaleString('en')} customers, ${(await count('orders')).toLocaleString('en')} orders.`
      );
    }
  } finally {
    await client.end();
  }
  return { url, seedSeconds, dir, stop };
}

async function amplify(client: pg.Client, customers: number, orders: number, say: (m: string) => void) {
  const one = async (sql: string) =>
    (await client.query<{ n: string }>(sql)).rows[0].n === null
      ? 0
      : Number((await client.query<{ n: string }>(sql)).rows[0].n);
  const n0 = await one('SELECT max(id) AS n FROM customers');
  const m0 = await one('SELECT max(id) AS n FROM orders');
  const i0 = await one('SELECT max(id) AS n FROM order_items');
  const baseOrders = await one('SELECT count(*) AS n FROM orders');
  const customerCopies = Math.max(1, Math.round(customers / n0));
  const orderCopies = Math.max(1, Math.round(orders / Math.max(1, baseOrders)));
  if (customerCopies === 1 && orderCopies === 1) return;
  say(
    `Copying the base (${n0.toLocaleString('en')} customers, ${baseOrders.toLocaleString('en')} orders) ` +
      `x${customerCopies} customers, x${orderCopies} orders...`
  );
  const { rows: indexes } = await client.query<{ name: string; def: string }>(
    `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
       FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
      WHERE t.relname = ANY($1) AND t.relnamespace = 'public'::regnamespace
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`,
    [COPIED]
  );
  for (const ix of indexes) await client.query(`DROP INDEX ${ix.name}`);
  await client.query(`SET session_replication_role = replica`);
  const t0 = performance.now();
  const progress = (what: string, k: number, total: number) => {
    const s = (performance.now() - t0) / 1000;
    process.stderr.write(`\r  ${what} copy ${k}/${total}  (${s.toFixed(0)} s)   `);
  };
  for (let k = 1; k < customerCopies; k++) {
    await client.query(
      `INSERT INTO customers (id, email, first_name, last_name, phone, phone_e164, addresses, preferred_channels, language,
                              marketing_consent, marketing_consent_at, tags, notes, attributes, created_at, updated_at)
       SELECT id + $1::int * $2::int, 'c' || $1::int || '.' || email, first_name, last_name, phone, phone_e164, addresses,
              preferred_channels, language, marketing_consent, marketing_consent_at, tags, notes, attributes,
              created_at, updated_at
         FROM customers WHERE id <= $2`,
      [k, n0]
    );
    await client.query(
      `INSERT INTO loyalty_accounts (id, customer_id, balance, lifetime_points, tier, joined_at, updated_at)
       SELECT id + $1::int * $2::int, customer_id + $1::int * $2::int, balance, lifetime_points, tier, joined_at, updated_at
         FROM loyalty_accounts WHERE customer_id <= $2`,
      [k, n0]
    );
    progress('customers', k + 1, customerCopies);
  }
  process.stderr.write('\n');
  for (let k = 1; k < orderCopies; k++) {
    const ck = k % customerCopies;
    await client.query(
      `INSERT INTO orders (id, customer_id, order_date, status, total, currency, channel, external_id, attributes,
                           created_at, updated_at, refunded_at)
       SELECT id + $1::int * $2::int, customer_id + $3::int * $4::int, order_date, status, total, currency, channel,
              CASE WHEN external_id IS NULL THEN NULL ELSE external_id || '-' || $1::int END, attributes,
              created_at, updated_at, refunded_at
         FROM orders WHERE id <= $2`,
      [k, m0, ck, n0]
    );
    await client.query(
      `INSERT INTO order_items (id, order_id, product_id, quantity, unit_price)
       SELECT id + $1::int * $2::int, order_id + $1::int * $3::int, product_id, quantity, unit_price
         FROM order_items WHERE id <= $2`,
      [k, i0, m0]
    );
    progress('orders', k + 1, orderCopies);
  }
  process.stderr.write('\n');
  say('Summary tables for the copies (as migration 0014 backfills them)...');
  await client.query(
    `INSERT INTO customer_stats (customer_id, lifetime_spend, order_count, last_order_at, open_tickets, points, tier)
     SELECT c.id, coalesce(o.spend, 0), coalesce(o.n, 0), o.last_at, 0, coalesce(la.balance, 0), la.tier
       FROM customers c
       LEFT JOIN (SELECT customer_id,
                         sum(total) FILTER (WHERE status NOT IN ('cancelled', 'refunded')) AS spend,
                         count(*)::integer AS n, max(order_date) AS last_at
                    FROM orders GROUP BY customer_id) o ON o.customer_id = c.id
       LEFT JOIN loyalty_accounts la ON la.customer_id = c.id
      WHERE c.id > $1
     ON CONFLICT (customer_id) DO UPDATE SET lifetime_spend = excluded.lifetime_spend,
       order_count = excluded.order_count, last_order_at = excluded.last_order_at`,
    [n0]
  );
  // Base customers whose orders were copied onto copy 0 (orderCopies > customerCopies).
  await client.query(
    `UPDATE customer_stats s SET lifetime_spend = o.spend, order_count = o.n, last_order_at = o.last_at
       FROM (SELECT customer_id, coalesce(sum(total) FILTER (WHERE status NOT IN ('cancelled', 'refunded')), 0) AS spend,
                    count(*)::integer AS n, max(order_date) AS last_at
               FROM orders WHERE customer_id <= $1 GROUP BY customer_id) o
      WHERE s.customer_id = o.customer_id AND s.order_count <> o.n`,
    [n0]
  );
  await client.query(
    `INSERT INTO order_stats (order_id, item_count, ticket_count)
     SELECT o.id, coalesce(i.n, 0), 0
       FROM orders o
       LEFT JOIN (SELECT order_id, sum(quantity)::integer AS n FROM order_items WHERE order_id > $1 GROUP BY order_id) i
              ON i.order_id = o.id
      WHERE o.id > $1`,
    [m0]
  );
  // The copies bypassed the triggers that keep the orders' totals (migration 0021): recount them.
  await client.query(`DELETE FROM order_totals`);
  await client.query(
    `INSERT INTO order_totals (orders, total) SELECT count(*), coalesce(sum(total), 0) FROM orders`
  );
  // And the per-day totals of migration 0030.
  await client.query(`DELETE FROM order_daily_totals`);
  await client.query(
    `INSERT INTO order_daily_totals (day, status, channel, orders, total)
     SELECT (order_date AT TIME ZONE 'UTC')::date, status, channel, count(*), sum(total) FROM orders GROUP BY 1, 2, 3`
  );
  await client.query(`SET session_replication_role = origin`);
  say(`Rebuilding ${indexes.length} indexes...`);
  for (const [i, ix] of indexes.entries()) {
    await client.query(ix.def);
    process.stderr.write(
      `\r  index ${i + 1}/${indexes.length} (${((performance.now() - t0) / 1000).toFixed(0)} s)   `
    );
  }
  process.stderr.write('\n');
  for (const table of ['customers', 'loyalty_accounts', 'orders', 'order_items'])
    await client.query(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), max(id)) FROM ${table}`);
  say('VACUUM ANALYZE...');
  await client.query('VACUUM ANALYZE');
}

/** The copies bypassed the triggers that mark analytics days dirty: rebuild the rollups (RFM reads them). */
export async function rebuildRollups(url: string, say: (m: string) => void) {
  say('Rebuilding the analytics rollups over the copies...');
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  pool.on('error', () => undefined);
  try {
    await refreshRollups(poolDb(pool), process.env.STORE_TIMEZONE ?? 'UTC', { force: true });
  } finally {
    await pool.end();
  }
}
