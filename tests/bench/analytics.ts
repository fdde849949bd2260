// npm run bench:analytics -- [--customers 200000] [--runs 7] [--timezone America/New_York]
//
// Times the wallboard's initial snapshot and every analytics query on a large demo data set
// (200,000 customers is about a million orders). Seeds a fresh embedded Postgres, or uses
// BENCH_DATABASE_URL (seeding it only when it has no orders). Prints a table and writes
// bench-results/analytics.json.
import os from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { migrateDatabase } from '../../db/migrate.js';
import { DEMO_PASSWORD } from '../../db/seed/demo-users.js';
import { seedDemoData } from '../../db/seed/index.js';
import { computeSnapshot } from '../../server/services/wallboard/compute.js';
import { loadWallboardState } from '../../server/services/wallboard/load.js';
import { poolDb } from '../../server/data/db.js';
import { addDays, storeToday } from '../../server/services/analytics/range.js';
import { refreshRollups } from '../../server/services/analytics/rollups.js';
import { Browser } from '../support/http.js';
import { startTestServer } from '../support/server.js';
import { benchDatabase, now, printTable, timed, writeResults } from './measure.js';

const { values } = parseArgs({
  options: {
    customers: { type: 'string', default: '200000' },
    runs: { type: 'string', default: '7' },
    timezone: { type: 'string', default: 'America/New_York' }
  }
});
const CUSTOMERS = Number(values.customers);
const RUNS = Number(values.runs);
const TZ = values.timezone!;
const say = (msg: string) => process.stderr.write(`${msg}\n`);

async function main() {
  // Reads are what is measured; durability settings only slow the seed.
  const db = await benchDatabase({ prefix: 'pulse-bench-analytics-', fast: true });
  const sql = new pg.Pool({ connectionString: db.url, max: 8 });
  sql.on('error', () => undefined); // idle connections closed under it when Postgres stops
  try {
    await migrateDatabase(db.url);
    const [{ orders: existing }] = (await sql.query(`SELECT count(*)::int AS orders FROM orders`)).rows;
    let seedSeconds: number | null = null;
    if (existing === 0) {
      say(`Seeding ${CUSTOMERS.toLocaleString('en')} customers (a few minutes for 200,000)...`);
      const summary = await seedDemoData(db.url, { customers: CUSTOMERS, progress: true, log: say });
      seedSeconds = summary.seconds;
    } else {
      say(`Using the ${existing.toLocaleString('en')} orders already in the database.`);
    }
    const counts = (
      await sql.query(
        `SELECT (SELECT count(*) FROM customers)::int AS customers, (SELECT count(*) FROM orders)::int AS orders,
                (SELECT count(*) FROM order_items)::int AS order_items, (SELECT count(*) FROM tickets)::int AS tickets,
                (SELECT count(*) FROM loyalty_ledger)::int AS loyalty_ledger`
      )
    ).rows[0];

    say('Building the analytics rollups...');
    const t0 = now();
    const refresh = await refreshRollups(poolDb(sql), TZ);
    const rollupMs = now() - t0;
    say(
      `Rollups ${refresh.rebuilt ? 'rebuilt' : 'refreshed'} in ${(rollupMs / 1000).toFixed(1)} s. VACUUM ANALYZE (what autovacuum does after a bulk load)...`
    );
    await sql.query('VACUUM ANALYZE');

    const loadBefore = os.loadavg();
    const pulse = await startTestServer(db.url, {
      NODE_ENV: 'production',
      STORE_TIMEZONE: TZ,
      ANALYTICS_REFRESH_SECONDS: '3600'
    });
    const results: { query: string; n: number; p50: number; p95: number; max: number }[] = [];
    try {
      const browser = await Browser.signedIn(pulse.url, 'manager@pulse.demo', DEMO_PASSWORD);
      const today = storeToday(TZ);
      const back = (days: number) => addDays(today, -days);
      const range = (days: number) => `from=${back(days - 1)}&to=${today}`;

      const measure = async (query: string, work: () => Promise<unknown>) => {
        const s = await timed(RUNS, work);
        results.push({ query, ...s });
        say(`  ${query}: p50 ${s.p50.toFixed(0)} ms`);
      };
      const http = (p: string) => () => browser.getOk(p);

      say('Timing...');
      await measure('wallboard snapshot from SQL (load + compute)', async () => {
        const at = Date.now();
        computeSnapshot(await loadWallboardState(poolDb(sql), TZ, at), at);
      });
      await measure('GET /api/wallboard', http('/api/wallboard'));
      await measure('sales, 30 days by day', http(`/api/analytics/sales?${range(30)}`));
      await measure('sales, 6 months by week', http(`/api/analytics/sales?${range(182)}`));
      await measure('sales, 12 months by month', http(`/api/analytics/sales?${range(365)}`));
      await measure('sales, 2 years by month', http(`/api/analytics/sales?${range(730)}`));
      await measure('top products, 2 years', http(`/api/analytics/top-products?${range(730)}`));
      await measure('top categories, 2 years', http(`/api/analytics/top-categories?${range(730)}`));
      await measure('cohorts, 2 years', http(`/api/analytics/cohorts?${range(730)}`));
      await measure('RFM, 12 months', http(`/api/analytics/rfm?${range(365)}`));
      await measure('RFM, 2 years', http(`/api/analytics/rfm?${range(730)}`));
      await measure('support, 30 days by day', http(`/api/analytics/support?${range(30)}`));
      await measure('support, 2 years by month', http(`/api/analytics/support?${range(730)}`));
      await measure('drill: orders, 2 years, page 1', http(`/api/analytics/orders?${range(730)}`));
      await measure(
        'drill: product orders, 2 years',
        http(`/api/analytics/orders?${range(730)}&productId=1`)
      );
      await measure(
        'drill: returning customers, 12 months',
        http(`/api/analytics/customers?${range(365)}&kind=returning`)
      );
      await measure(
        'drill: champions, 12 months',
        http(`/api/analytics/customers?${range(365)}&kind=segment&segment=champions`)
      );
      await measure(
        'drill: cohort cell',
        http(
          `/api/analytics/customers?${range(730)}&kind=cohort&cohort=${back(200).slice(0, 7)}&month=${back(60).slice(0, 7)}`
        )
      );
      await measure(
        'drill: tickets resolved late, 2 years',
        http(`/api/analytics/tickets?${range(730)}&kind=resolved&sla=missed`)
      );
      await measure('CSV: sales, 2 years', http(`/api/analytics/sales?${range(730)}&format=csv`));
    } finally {
      await pulse.close();
    }
    const loadAfter = os.loadavg();

    printTable(
      `Wallboard and analytics at ${counts.orders.toLocaleString('en')} orders (${RUNS} runs each after a warm-up; ms)`,
      results.map((r) => ({
        query: r.query,
        p50: r.p50,
        p95: r.p95,
        max: r.max,
        budget: r.query.includes('wallboard') ? '300' : '1000',
        ok: r.p95 < (r.query.includes('wallboard') ? 300 : 1000) ? 'yes' : 'NO'
      }))
    );
    process.stdout.write(
      `\nRollup rebuild: ${(rollupMs / 1000).toFixed(1)} s. Load average before/after: ${loadBefore.map((l) => l.toFixed(1)).join(' ')} / ${loadAfter.map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs.\n`
    );

    await writeResults('analytics', {
      date: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model,
        loadAverageBefore: loadBefore,
        loadAverageAfter: loadAfter
      },
      timezone: TZ,
      runs: RUNS,
      data: counts,
      seedSeconds,
      rollupBuild: { ms: Math.round(rollupMs), rebuilt: refresh.rebuilt },
      results: results.map((r) => ({
        ...r,
        p50: Math.round(r.p50 * 10) / 10,
        p95: Math.round(r.p95 * 10) / 10,
        max: Math.round(r.max * 10) / 10
      }))
    });
  } finally {
    await sql.end();
    await db.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`bench:analytics failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
