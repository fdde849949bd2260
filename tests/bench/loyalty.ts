// npm run bench:loyalty -- [--customers 1000000] [--orders 5000000] [--runs 3] [--data /work/bench-loyalty]
//
// The loyalty program's impact preview at size: the draft replayed over the last 12 months of
// orders against the version in force, as the server runs it (server/services/loyalty-program/
// preview.ts: the rollups made fresh, then ten ranges of members, each one pass that sums what the
// comparison needs), with the progress it reports. Baseline in the same run: the preview of an unchanged draft (the same work, nobody
// moves). Also times the loyalty screen's reports. Target: a preview <= 10 s at 1,000,000
// customers and 5,000,000 orders. Uses the CRM bench's database generator (crm-database.ts) with
// its data directory under --data. Prints a table and writes bench-results/loyalty.json.
import os from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { STARTING_PROGRAM, type ProgramConfig } from '#shared/schemas/loyalty-program.js';
import type { PreviewJob } from '#shared/schemas/loyalty-editor.js';
import { poolDb } from '../../server/data/db.js';
import { startPreview } from '../../server/services/loyalty-program/preview.js';
import {
  activityReport,
  liabilityReport,
  tierReport,
  topMembers
} from '../../server/services/loyalty-program/report.js';
import { saveDraft } from '../../server/services/loyalty-program/versions.js';
import { crmDatabase } from './crm-database.js';
import { now, printTable, timed, writeResults } from './measure.js';

const { values } = parseArgs({
  options: {
    customers: { type: 'string', default: '1000000' },
    orders: { type: 'string', default: '5000000' },
    runs: { type: 'string', default: '3' },
    data: { type: 'string', default: '/work/bench-loyalty' },
    'pg-port': { type: 'string', default: '55477' }
  }
});
const RUNS = Number(values.runs);
const TARGET_MS = 10_000;
const say = (msg: string) => process.stderr.write(`${msg}\n`);

const database = await crmDatabase({
  customers: Number(values.customers),
  orders: Number(values.orders),
  port: Number(values['pg-port']),
  root: values.data!,
  say
});
const pool = new pg.Pool({ connectionString: database.url, max: 4 });
// Stopping the database at the end ends its idle connections: not an error of the bench.
pool.on('error', () => undefined);
const db = poolDb(pool);

try {
  const count = async (table: string) =>
    Number((await pool.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
  const sizes = {
    customers: await count('customers'),
    members: await count('loyalty_accounts'),
    orders: await count('orders'),
    ordersLast12Months: Number(
      (await pool.query(`SELECT count(*) AS n FROM orders WHERE order_date >= now() - interval '12 months'`))
        .rows[0].n
    )
  };
  say(`Sizes: ${JSON.stringify(sizes)}`);
  const [manager] = await db.query<{ id: number }>(
    `SELECT id FROM users WHERE role IN ('manager', 'admin') ORDER BY id LIMIT 1`
  );
  const actor = { user: { id: manager.id } as never, ip: null };

  const unchanged = structuredClone(STARTING_PROGRAM);
  const changed: ProgramConfig = structuredClone(STARTING_PROGRAM);
  changed.earn.pointsPerUnit = 1.5;
  changed.tiers.levels[2].threshold = 10_000;
  changed.tiers.levels[3].multiplier = 2;
  // Order lines and events in the replay: a category and a product multiplied, all three bonuses.
  const [category] = await db.query<{ id: number; products: number }>(
    `SELECT category_id AS id, count(*)::int AS products FROM products WHERE category_id IS NOT NULL
      GROUP BY category_id ORDER BY count(*) DESC, category_id LIMIT 1`
  );
  const [product] = await db.query<{ id: number }>(
    `SELECT id FROM products WHERE category_id IS DISTINCT FROM $1 ORDER BY id LIMIT 1`,
    [category.id]
  );
  const extras: ProgramConfig = structuredClone(changed);
  extras.earn.categoryMultipliers = [{ categoryId: category.id, multiplier: 2 }];
  extras.earn.productMultipliers = [{ productId: product.id, multiplier: 3 }];
  extras.earn.bonuses = { signUp: 100, birthday: 200, firstReview: 50 };
  const extrasName = `draft: that, x2 on a category (${category.products} products), x3 on a product, three bonuses`;

  /** Saves `config` as the draft and runs its preview to the end; the time from start to result. */
  async function preview(config: ProgramConfig) {
    const draft = (
      await db.query<{ version: number }>(
        `SELECT version FROM loyalty_program_versions WHERE status = 'draft'`
      )
    )[0];
    await saveDraft(db, actor, { config, ...(draft ? { version: draft.version } : {}) });
    const progress: number[] = [];
    let last: PreviewJob | undefined;
    const t0 = now();
    const { done } = await startPreview(db, actor, 'UTC', (_, job) => {
      progress.push(job.progress);
      last = job;
    });
    await done;
    const ms = now() - t0;
    if (last?.state !== 'done') throw new Error(`preview ${last?.state}: ${last?.error}`);
    return { ms, steps: new Set(progress).size, result: last.result! };
  }

  const rows: Record<string, string | number>[] = [];
  const results: Record<string, unknown> = {};
  for (const [name, config] of [
    ['baseline: unchanged draft', unchanged],
    ['draft: x1.5 points, gold at 10,000, platinum x2', changed],
    [extrasName, extras]
  ] as const) {
    const samples: number[] = [];
    let last: Awaited<ReturnType<typeof preview>> | undefined;
    for (let i = 0; i < RUNS; i++) {
      last = await preview(config);
      samples.push(last.ms);
      say(`${name}: run ${i + 1}/${RUNS} ${(last.ms / 1000).toFixed(2)} s`);
    }
    samples.sort((a, b) => a - b);
    const median = samples[Math.floor(samples.length / 2)];
    rows.push({
      preview: name,
      'median s': median / 1000,
      'max s': samples.at(-1)! / 1000,
      'progress steps': last!.steps,
      up: last!.result.up,
      down: last!.result.down,
      target: median <= TARGET_MS ? 'met (<= 10 s)' : 'MISSED'
    });
    results[name] = { samplesMs: samples, medianMs: median, result: last!.result };
  }
  printTable(
    `Impact preview, ${sizes.members.toLocaleString('en')} members, ${sizes.orders.toLocaleString('en')} orders (${sizes.ordersLast12Months.toLocaleString('en')} in 12 months)`,
    rows
  );

  const reports: Record<string, string | number>[] = [];
  const reportResults: Record<string, unknown> = {};
  for (const [name, work] of [
    ['members by tier (now, 30 days ago)', () => tierReport(db)],
    ['top 10 members', () => topMembers(db, 10)],
    ['points over 12 months', () => activityReport(db, '365')],
    ['liability (expiry 12 months)', () => liabilityReport(db, { pointValue: '0.01', expiryMonths: 12 })]
  ] as const) {
    const s = await timed(Math.max(3, RUNS), work);
    reports.push({ report: name, 'p50 ms': s.p50, 'max ms': s.max });
    reportResults[name] = s;
  }
  printTable('The loyalty screen reports', reports);

  await writeResults('loyalty', {
    at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
    sizes,
    targetMs: TARGET_MS,
    previews: results,
    reports: reportResults
  });
} finally {
  await pool.end();
  await database.stop();
}
