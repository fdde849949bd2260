// npm run bench:segments -- [--customers 1000000] [--orders 5000000] [--runs 20] [--changes 300] [--data /work/bench-segments]
//
// Segments at size: the count of typical segments (p95 target <= 300 ms) and their preview
// (<= 100 ms), through the services the API calls; the membership work per change at commit
// (<= 1 ms on average per segment and change), measured two ways: the database function alone on
// single customers, and an order's commit with the segments against the same commit without them.
// Baselines in the same run: the naive count (the per-customer SQL over every customer) and the
// naive refresh (recomputing a whole segment after a change). Data: tests/bench/crm.ts's
// generator, in an embedded Postgres under --data (progress printed while it seeds).
// Prints a table and writes bench-results/segments.json.
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { SegmentGroup } from '#shared/schemas/segments.js';
import { poolDb } from '../../server/data/db.js';
import { COMPILER_VERSION } from '../../server/services/segments/compile.js';
import { compilePending } from '../../server/services/segments/reconcile.js';
import {
  BASE,
  compile,
  countRule,
  fillSegment,
  previewRule
} from '../../server/services/segments/segments.js';
import { crmDatabase } from './crm-database.js';
import { now, printTable, summarize, timed, writeResults } from './measure.js';

const { values } = parseArgs({
  options: {
    customers: { type: 'string', default: '1000000' },
    orders: { type: 'string', default: '5000000' },
    runs: { type: 'string', default: '20' },
    changes: { type: 'string', default: '300' },
    data: { type: 'string', default: '/work/bench-segments' },
    'pg-port': { type: 'string', default: '55461' }
  }
});
const RUNS = Number(values.runs);
const CHANGES = Number(values.changes);
const say = (msg: string) => process.stderr.write(`${msg}\n`);

const TYPICAL: [string, SegmentGroup][] = [
  [
    'lapsed big spenders',
    {
      op: 'and',
      rules: [
        { field: 'lastOrderAt', operator: 'not_in_last', value: 90 },
        { field: 'lifetimeSpend', operator: 'gte', value: '500' }
      ]
    }
  ],
  [
    'recent spend >= 200 (30 d)',
    { op: 'and', rules: [{ field: 'recentSpend', days: 30, operator: 'gte', value: '200' }] }
  ],
  [
    'gold+ with email consent',
    {
      op: 'and',
      rules: [
        { field: 'tier', operator: 'is_any_of', value: ['gold', 'platinum'] },
        { field: 'consent', channel: 'email', operator: 'is', value: true }
      ]
    }
  ],
  [
    'new this month (first order 30 d)',
    { op: 'and', rules: [{ field: 'firstOrderAt', operator: 'in_last', value: 30 }] }
  ],
  ['VIP (support rule)', { op: 'and', rules: [{ field: 'supportVip', operator: 'is', value: true }] }],
  [
    'loyal (RFM)',
    { op: 'and', rules: [{ field: 'rfm', operator: 'is_any_of', value: ['champions', 'loyal'] }] }
  ],
  [
    'tag vip OR 10+ orders',
    {
      op: 'or',
      rules: [
        { field: 'tags', operator: 'any', value: ['vip'] },
        { field: 'orderCount', operator: 'gte', value: 10 }
      ]
    }
  ]
];

async function main() {
  const database = await crmDatabase({
    customers: Number(values.customers),
    orders: Number(values.orders),
    port: Number(values['pg-port']),
    root: values.data!,
    say
  });
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  pool.on('error', () => undefined);
  const db = poolDb(pool);
  try {
    const [size] = (
      await pool.query<{ customers: number; orders: number }>(
        `SELECT (SELECT count(*) FROM customers)::int AS customers, (SELECT count(*) FROM orders)::int AS orders`
      )
    ).rows;
    say(`Data: ${JSON.stringify(size)}. RFM cut-offs and built-in segments...`);
    await pool.query(`SELECT segment_refresh_rfm_cutoffs()`);
    let t0 = now();
    await compilePending(db);
    say(`Built-ins compiled and filled in ${((now() - t0) / 1000).toFixed(1)} s.`);

    // Counts and previews of draft rules (what the builder asks while someone edits).
    const rows: Record<string, string | number>[] = [];
    const results: Record<string, unknown>[] = [];
    for (const [name, rule] of TYPICAL) {
      say(`  ${name}...`);
      const count = await timed(RUNS, () => countRule(db, rule));
      const preview = await timed(RUNS, () => previewRule(db, rule));
      const members = (await countRule(db, rule)).count;
      // Baseline: the per-customer shape over everyone (what evaluating row by row would cost).
      const naive = await compile(db, rule, 'row');
      const naiveCount = await timed(3, () =>
        pool.query(`SELECT count(*) FROM ${BASE} WHERE ${naive.where}`, [JSON.stringify(naive.params)])
      );
      rows.push({
        segment: name,
        members,
        'count p50': count.p50,
        'count p95': count.p95,
        'preview p95': preview.p95,
        'naive count p50': naiveCount.p50
      });
      results.push({ name, members, count, preview, naiveCount });
    }
    printTable(
      `Draft rule count and preview (ms, ${RUNS} runs; targets: count p95 <= 300, preview p95 <= 100)`,
      rows
    );

    // Saved segments: membership kept at commit.
    say('Saving the typical segments (first fill)...');
    const { rows: userRow } = await pool.query<{ id: number }>(`SELECT id FROM users ORDER BY id LIMIT 1`);
    const saved: { id: number; name: string; fillMs: number }[] = [];
    for (const [name, rule] of TYPICAL) {
      const { rows: ins } = await pool.query<{ id: number }>(
        `INSERT INTO segments (name, rule, created_by) VALUES ($1, $2::jsonb, $3)
         ON CONFLICT (lower(name)) DO UPDATE SET rule = EXCLUDED.rule RETURNING id`,
        [`Bench: ${name}`, JSON.stringify(rule), userRow[0]?.id ?? null]
      );
      const id = ins[0].id;
      const { where, params } = await compile(db, rule, 'row');
      await pool.query(
        `UPDATE segments SET compiled_where = $2, compiled_params = $3::jsonb, compiled_with = $4 WHERE id = $1`,
        [id, where, JSON.stringify(params), COMPILER_VERSION]
      );
      t0 = now();
      await db.transaction((t) => fillSegment(t, id, rule, true));
      saved.push({ id, name, fillMs: now() - t0 });
    }
    const { rows: all } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM segments WHERE compiled_where IS NOT NULL`
    );
    const segmentCount = all[0].n;
    const savedCount = await timed(RUNS, () =>
      pool.query(`SELECT count(*) FROM segment_members WHERE segment_id = $1`, [saved[0].id])
    );

    // Membership work per change: the function alone, one customer at a time, every segment.
    const ids = (
      await pool.query<{ id: number }>(`SELECT id FROM customers TABLESAMPLE SYSTEM (1) LIMIT $1`, [CHANGES])
    ).rows.map((r) => r.id);
    const evalSamples: number[] = [];
    for (const id of ids) {
      const start = now();
      await db.transaction((t) => t.query(`SELECT segment_evaluate(ARRAY[$1::integer])`, [id]));
      evalSamples.push(now() - start);
    }
    const evaluate = summarize(evalSamples);
    const evalMean = evalSamples.reduce((a, b) => a + b, 0) / evalSamples.length;

    // An order's commit with every segment kept, against the same commit with none (the
    // difference is the membership work the commit carries).
    const commitOnce = async (customer: number) => {
      const start = now();
      await pool.query(
        `INSERT INTO orders (customer_id, total, status, order_date) VALUES ($1, 42.50, 'paid', now())`,
        [customer]
      );
      return now() - start;
    };
    const withSegments: number[] = [];
    for (const id of ids) withSegments.push(await commitOnce(id));
    await pool.query(`UPDATE segments SET compiled_where = NULL WHERE compiled_where IS NOT NULL`);
    const without: number[] = [];
    for (const id of ids) without.push(await commitOnce(id));
    await pool.query(`UPDATE segments SET compiled_with = 0`);
    await compilePending(db);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const perCommit = mean(withSegments) - mean(without);

    // Baseline: refreshing one whole segment after a change (a naive full recompute).
    const naiveRefresh = await timed(
      3,
      () => db.transaction((t) => fillSegment(t, saved[0].id, TYPICAL[0][1], true)),
      0
    );

    printTable('Membership kept current (ms)', [
      {
        measure: `segment_evaluate, 1 customer x ${segmentCount} segments (mean)`,
        ms: evalMean,
        p95: evaluate.p95
      },
      {
        measure: 'per change and segment (mean)',
        ms: evalMean / segmentCount,
        p95: evaluate.p95 / segmentCount
      },
      {
        measure: 'order commit with segments (mean)',
        ms: mean(withSegments),
        p95: summarize(withSegments).p95
      },
      { measure: 'order commit without segments (mean)', ms: mean(without), p95: summarize(without).p95 },
      { measure: 'membership work per commit (difference)', ms: perCommit, p95: NaN },
      {
        measure: `baseline: naive full recompute of "${saved[0].name}"`,
        ms: naiveRefresh.p50,
        p95: naiveRefresh.p95
      },
      { measure: 'saved segment count (segment_members)', ms: savedCount.p50, p95: savedCount.p95 }
    ]);
    const worstCount = Math.max(...results.map((r) => (r.count as { p95: number }).p95));
    const worstPreview = Math.max(...results.map((r) => (r.preview as { p95: number }).p95));
    process.stdout.write(
      `\nCount p95 worst ${worstCount.toFixed(1)} ms (target <= 300): ${worstCount <= 300 ? 'met' : 'NOT met'}; ` +
        `preview p95 worst ${worstPreview.toFixed(1)} ms (target <= 100): ${worstPreview <= 100 ? 'met' : 'NOT met'}; ` +
        `membership per change ${perCommit.toFixed(2)} ms for ${segmentCount} segments, ${(evalMean / segmentCount).toFixed(3)} ms per segment (target <= 1): ${evalMean / segmentCount <= 1 ? 'met' : 'NOT met'}\n`
    );
    await writeResults('segments', {
      at: new Date().toISOString(),
      size,
      seedSeconds: database.seedSeconds,
      runs: RUNS,
      drafts: results,
      saved,
      savedCount,
      membership: {
        segments: segmentCount,
        changes: ids.length,
        evaluate,
        evaluateMeanMs: evalMean,
        perSegmentMeanMs: evalMean / segmentCount,
        commitWithSegments: summarize(withSegments),
        commitWithout: summarize(without),
        perCommitMs: perCommit,
        naiveRefresh
      }
    });
  } finally {
    await pool.end();
    await database.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
