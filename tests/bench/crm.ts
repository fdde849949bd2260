// npm run bench:crm -- [--customers 1000000] [--orders 5000000] [--runs 20] [--data /work/bench-crm]
//
// The CRM tables at size, through the real HTTP API of a real Pulse server (a child process, so its
// memory is its own): first pages of typical filters and sorts, a page 10,000 rows deep, every kind
// of search, the footers, the customer 360 of a customer with 500 orders, and the CSV export of the
// customers (rows/s and the server's peak RSS). Seeds an embedded Postgres kept under --data (reused
// when already seeded at that size; see crm-database.ts) or uses DATABASE_URL. Prints a table and
// writes tests/bench/results/crm.json.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { encodeListState, type ListEntity, type ListQuery } from '#shared/lists/query.js';
import { DEMO_PASSWORD } from '../../db/seed/demo-users.js';
import { SERVER_BUNDLE, buildServer, serverIsStale } from '../../server/server-build.js';
import { Browser } from '../support/http.js';
import { freePort } from '../support/postgres.js';
import { crmDatabase } from './crm-database.js';
import { now, printTable, timed } from './measure.js';

const root = path.resolve(import.meta.dirname, '../..');
const { values } = parseArgs({
  options: {
    customers: { type: 'string', default: '1000000' },
    orders: { type: 'string', default: '5000000' },
    runs: { type: 'string', default: '20' },
    data: { type: 'string', default: '/work/bench-crm' },
    'pg-port': { type: 'string', default: '55441' },
    only: { type: 'string' }
  }
});
const CUSTOMERS = Number(values.customers);
const ORDERS = Number(values.orders);
const RUNS = Number(values.runs);
const say = (msg: string) => process.stderr.write(`${msg}\n`);

const day = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
const and = (...rules: unknown[]) => ({ op: 'and', rules }) as unknown as ListQuery['filter'];

type Kind = 'list' | 'search' | 'deep' | 'footer' | '360';
const TARGET: Record<Kind, number> = { list: 100, search: 100, deep: 100, footer: 300, '360': 100 };
interface Case {
  name: string;
  kind: Kind;
  path: () => string;
}
const list = (entity: ListEntity, q: Partial<ListQuery>) =>
  `/api/${entity}?${encodeListState({ limit: 50, ...q }).toString()}`;
const footer = (entity: ListEntity, q: Partial<ListQuery>) =>
  `/api/${entity}/summary?${encodeListState(q).toString()}`;

const LISTS: [string, ListEntity, Partial<ListQuery>][] = [
  ['customers: newest', 'customers', {}],
  ['customers: by lifetime spend', 'customers', { sort: [{ field: 'lifetimeSpend', dir: 'desc' }] }],
  ['customers: by last order', 'customers', { sort: [{ field: 'lastOrderAt', dir: 'desc' }] }],
  ['customers: by name', 'customers', { sort: [{ field: 'name', dir: 'asc' }] }],
  [
    'customers: gold+ by spend',
    'customers',
    {
      sort: [{ field: 'lifetimeSpend', dir: 'desc' }],
      filter: and({ field: 'tier', operator: 'is_any_of', value: ['gold', 'platinum'] })
    }
  ],
  [
    'customers: open ticket',
    'customers',
    { filter: and({ field: 'hasOpenTicket', operator: 'is', value: true }) }
  ],
  [
    'customers: lapsed 90d, spend>500',
    'customers',
    {
      sort: [{ field: 'lifetimeSpend', dir: 'desc' }],
      filter: and(
        { field: 'lastOrderAt', operator: 'before_days_ago', value: 90 },
        { field: 'lifetimeSpend', operator: 'gt', value: '500' }
      )
    }
  ],
  [
    'customers: consent + tag vip',
    'customers',
    {
      filter: and(
        { field: 'marketingConsent', operator: 'is', value: true },
        { field: 'tags', operator: 'any', value: ['vip'] }
      )
    }
  ],
  [
    'customers: 10+ orders by count',
    'customers',
    {
      sort: [
        { field: 'orderCount', dir: 'desc' },
        { field: 'name', dir: 'asc' }
      ],
      filter: and({ field: 'orderCount', operator: 'gte', value: 10 })
    }
  ],
  ['orders: newest', 'orders', {}],
  [
    'orders: refunded, last 30d',
    'orders',
    {
      filter: and(
        { field: 'status', operator: 'is_any_of', value: ['refunded'] },
        { field: 'orderDate', operator: 'in_last', value: 30 }
      )
    }
  ],
  ['orders: by total', 'orders', { sort: [{ field: 'total', dir: 'desc' }] }],
  ['orders: by customer name', 'orders', { sort: [{ field: 'customerName', dir: 'asc' }] }],
  [
    'orders: mobile, 30-60d ago, by total',
    'orders',
    {
      sort: [{ field: 'total', dir: 'desc' }],
      filter: and(
        { field: 'channel', operator: 'is_any_of', value: ['mobile'] },
        { field: 'orderDate', operator: 'between', value: [day(60), day(30)] }
      )
    }
  ],
  ['orders: with a ticket', 'orders', { filter: and({ field: 'hasTicket', operator: 'is', value: true }) }],
  ['orders: by items', 'orders', { sort: [{ field: 'itemCount', dir: 'desc' }] }],
  ['products: by rating', 'products', { sort: [{ field: 'ratingAvg', dir: 'desc' }] }],
  [
    'products: low or out of stock',
    'products',
    { filter: and({ field: 'stockState', operator: 'is_any_of', value: ['low', 'out'] }) }
  ]
];

/** A realistic typo: two neighbouring letters swapped in the first name. */
const typo = (name: string) => (name.length < 3 ? name : `${name[0]}${name[2]}${name[1]}${name.slice(3)}`);

/**
 * Starts what `npm start` runs (the compiled server, built first when stale) against `url` as a
 * child process; resolves once it answers.
 */
async function startServer(url: string) {
  if (serverIsStale(root)) {
    say('Compiling the server (as npm start does)...');
    await buildServer(root);
  }
  const port = await freePort();
  const child = spawn(process.execPath, ['--enable-source-maps', SERVER_BUNDLE], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: url,
      PORT: String(port),
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      SERVE_FRONTEND: 'false',
      SEED_DEMO_DATA: 'false',
      DEMO_ACTIVITY: 'false',
      ANALYTICS_REFRESH_SECONDS: '3600'
    },
    stdio: ['ignore', 'ignore', 'inherit']
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode})`);
    const up = await fetch(`${base}/api/health`).then(
      (res) => res.ok,
      () => false
    );
    if (up) break;
    if (i > 600) throw new Error('the server did not answer within 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { base, pid: child.pid!, stop };
}

/** VmRSS and VmHWM (peak) of a process, in MiB. */
function memory(pid: number) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024;
  return { rssMiB: kb('VmRSS'), peakMiB: kb('VmHWM') };
}

/** CPU time (user + system) a process has used, in ms; null once it has exited. */
function cpuMs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}
const CLOCK_TICKS = 100;

/**
 * CPU the backends of the server's request pool (Sequelize's, the connections without an
 * application_name) spend while `work` runs, in ms, from /proc: they are listed every 200 ms, and
 * a backend first seen after the start counts from zero. A figure the machine's load hardly
 * changes, unlike rows/s.
 */
async function databaseCpu<T>(sql: pg.Pool, work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  const sample = async (initial: boolean) => {
    const { rows } = await sql.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = ''`
    );
    for (const { pid } of rows) {
      const ms = cpuMs(pid);
      if (ms === null) continue;
      if (!first.has(pid)) first.set(pid, initial ? ms : 0);
      last.set(pid, ms);
    }
  };
  await sample(true);
  let sampling = Promise.resolve();
  const timer = setInterval(() => {
    sampling = sampling.then(() => sample(false)).catch(() => undefined);
  }, 200);
  try {
    const result = await work();
    clearInterval(timer);
    await sampling;
    await sample(false);
    let ms = 0;
    for (const [pid, end] of last) ms += end - (first.get(pid) ?? 0);
    return { result, ms };
  } finally {
    clearInterval(timer);
  }
}

/**
 * Waits (up to 10 minutes) until the server's background connections (named, e.g. pulse-background
 * refreshing loyalty tiers and RFM ends after boot) have been idle for two checks in a row, so a
 * measurement does not share the database with the server's start-up work.
 */
async function backgroundIdle(sql: pg.Pool) {
  let quiet = 0;
  for (let i = 0; i < 1200 && quiet < 2; i++) {
    const { rows } = await sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name <> '' AND state = 'active'
          AND query NOT ILIKE 'LISTEN%'`
    );
    quiet = rows[0].n === 0 ? quiet + 1 : 0;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The customer with 500 orders the 360 is measured on (created once, through the triggers). */
async function customerWith500Orders(sql: pg.Pool) {
  const email = 'five.hundred@bench.pulse';
  const found = await sql.query<{ id: number }>(`SELECT id FROM customers WHERE lower(email) = $1`, [email]);
  if (found.rows[0]) return found.rows[0].id;
  const client = await sql.connect();
  try {
    await client.query('BEGIN');
    const [{ id }] = (
      await client.query<{ id: number }>(
        `INSERT INTO customers (email, first_name, last_name, phone, created_at)
         VALUES ($1, 'Fivehundred', 'Orders', '+1 555 0100 500', now() - interval '3 years') RETURNING id`,
        [email]
      )
    ).rows;
    await client.query(
      `INSERT INTO orders (customer_id, order_date, status, total, channel)
       SELECT $1, now() - g * interval '2 days', (ARRAY['delivered', 'shipped', 'refunded', 'paid'])[1 + g % 4]::order_status,
              (10 + (g * 37) % 400)::numeric(12, 2), (ARRAY['web', 'mobile'])[1 + g % 2]::sales_channel
         FROM generate_series(1, 500) g`,
      [id]
    );
    await client.query('COMMIT');
    return id;
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}

async function main() {
  const db = await crmDatabase({
    customers: CUSTOMERS,
    orders: ORDERS,
    port: Number(values['pg-port']),
    root: values.data!,
    say
  });
  const sql = new pg.Pool({ connectionString: db.url, max: 1 });
  sql.on('error', () => undefined);
  let server: Awaited<ReturnType<typeof startServer>> | null = null;
  try {
    const bigId = await customerWith500Orders(sql);
    const counts = (
      await sql.query<{ customers: number; orders: number; products: number }>(
        `SELECT (SELECT count(*) FROM customers)::int AS customers, (SELECT count(*) FROM orders)::int AS orders,
                (SELECT count(*) FROM products)::int AS products`
      )
    ).rows[0];
    // Search terms taken from the data: a customer in the middle, an order number, a SKU.
    const mid = Math.floor(counts.customers / 2);
    const [c] = (
      await sql.query<{ first_name: string; last_name: string; email: string; phone: string }>(
        `SELECT first_name, last_name, email, phone FROM customers WHERE id >= $1 AND phone IS NOT NULL ORDER BY id LIMIT 1`,
        [mid]
      )
    ).rows;
    const [o] = (
      await sql.query<{ id: number }>(`SELECT id FROM orders WHERE id >= $1 ORDER BY id LIMIT 1`, [
        Math.floor(counts.orders / 3)
      ])
    ).rows;
    const [p] = (await sql.query<{ sku: string }>(`SELECT sku FROM products ORDER BY id LIMIT 1 OFFSET 17`))
      .rows;
    say(`Data: ${JSON.stringify(counts)}; customer ${bigId} has 500 orders.`);

    server = await startServer(db.url);
    const browser = await Browser.signedIn(server.base, 'manager@pulse.demo', DEMO_PASSWORD);
    const rssAtStart = memory(server.pid).rssMiB;

    const cases: Case[] = [
      ...LISTS.map(([name, entity, q]): Case => ({ name, kind: 'list', path: () => list(entity, q) })),
      {
        name: `search customers: name typo "${typo(c.first_name)} ${c.last_name}"`,
        kind: 'search',
        path: () => list('customers', { q: `${typo(c.first_name)} ${c.last_name}` })
      },
      { name: 'search customers: email', kind: 'search', path: () => list('customers', { q: c.email }) },
      {
        name: 'search customers: phone',
        kind: 'search',
        path: () => list('customers', { q: c.phone.slice(-8) })
      },
      { name: 'search orders: order number', kind: 'search', path: () => list('orders', { q: `#${o.id}` }) },
      {
        name: 'search orders: customer name',
        kind: 'search',
        path: () => list('orders', { q: `${c.first_name} ${c.last_name}` })
      },
      {
        // A typo names nobody: the customers whose name is closest to it are ranked instead.
        name: `search orders: customer name typo "${typo(c.first_name)} ${c.last_name}"`,
        kind: 'search',
        path: () => list('orders', { q: `${typo(c.first_name)} ${c.last_name}` })
      },
      {
        // Nobody is that close to a typo in a surname alone: every name like it is ranked.
        name: `search orders: surname typo "${typo(c.last_name)}"`,
        kind: 'search',
        path: () => list('orders', { q: typo(c.last_name) })
      },
      { name: `search products: SKU ${p.sku}`, kind: 'search', path: () => list('products', { q: p.sku }) }
    ];
    // Pages 10,000 rows deep: the cursor is reached by following 50 pages of 200 (not timed).
    for (const [name, entity, q] of [
      ['customers: 10,000 deep, by spend', 'customers', { sort: [{ field: 'lifetimeSpend', dir: 'desc' }] }],
      ['orders: 10,000 deep, newest', 'orders', {}]
    ] as [string, ListEntity, Partial<ListQuery>][]) {
      let cursor: string | undefined;
      for (let i = 0; i < 50; i++)
        cursor = (await browser.getOk(list(entity, { ...q, limit: 200, cursor }))).nextCursor ?? undefined;
      cases.push({ name, kind: 'deep', path: () => list(entity, { ...q, cursor }) });
    }
    cases.push(
      { name: 'footer: all customers', kind: 'footer', path: () => footer('customers', {}) },
      {
        name: 'footer: customers gold+',
        kind: 'footer',
        path: () =>
          footer('customers', {
            filter: and({ field: 'tier', operator: 'is_any_of', value: ['gold', 'platinum'] })
          })
      },
      { name: 'footer: all orders', kind: 'footer', path: () => footer('orders', {}) },
      {
        name: 'footer: orders last 30d',
        kind: 'footer',
        path: () => footer('orders', { filter: and({ field: 'orderDate', operator: 'in_last', value: 30 }) })
      },
      {
        name: 'footer: orders mobile',
        kind: 'footer',
        path: () =>
          footer('orders', { filter: and({ field: 'channel', operator: 'is_any_of', value: ['mobile'] }) })
      },
      { name: 'footer: all products', kind: 'footer', path: () => footer('products', {}) },
      { name: '360: customer with 500 orders', kind: '360', path: () => `/api/customers/${bigId}` },
      { name: '360: its timeline', kind: '360', path: () => `/api/customers/${bigId}/timeline` }
    );

    // Measured in the server's steady state: its start-up work (the first segment reconcile, the
    // loyalty tiers and RFM refresh: tens of seconds of database CPU at this size) is not the
    // requests' cost. The periodic reconcile that repeats it is in docs/performance.md.
    say('Waiting for the server’s start-up background work to finish...');
    await backgroundIdle(sql);
    const loadBefore = os.loadavg();
    const results: {
      case: string;
      kind: Kind;
      rows: number;
      p50: number;
      p95: number;
      target: number;
      met: boolean;
    }[] = [];
    for (const cs of cases) {
      if (values.only && !cs.name.includes(values.only)) continue;
      let rows = 0;
      const s = await timed(
        RUNS,
        async () => {
          const body = await browser.getOk(cs.path());
          rows = Array.isArray(body?.rows)
            ? body.rows.length
            : typeof body?.count === 'number'
              ? body.count
              : 1;
        },
        2
      );
      const target = TARGET[cs.kind];
      results.push({
        case: cs.name,
        kind: cs.kind,
        rows,
        p50: s.p50,
        p95: s.p95,
        target,
        met: s.p95 <= target
      });
      say(`  ${cs.name}: p50 ${s.p50.toFixed(1)} ms, p95 ${s.p95.toFixed(1)} ms (${rows})`);
    }

    // The export: every customer as CSV, streamed and counted here, the server's memory read from /proc.
    let exportResult: Record<string, number | boolean> | null = null;
    if (!values.only || 'export'.includes(values.only)) {
      say('Export of every customer as CSV (once the server’s background work is idle)...');
      await backgroundIdle(sql);
      // The peak of the export alone: Linux resets VmHWM to the current RSS on `5` in clear_refs.
      let hwmReset = true;
      try {
        writeFileSync(`/proc/${server.pid}/clear_refs`, '5');
      } catch {
        hwmReset = false;
      }
      const before = memory(server.pid);
      let peak = before.rssMiB;
      const sampler = setInterval(() => {
        peak = Math.max(peak, memory(server!.pid).rssMiB);
      }, 50);
      const t0 = now();
      const serverCpu0 = cpuMs(server.pid) ?? 0;
      const { result: counted, ms: dbCpuMs } = await databaseCpu(sql, async () => {
        const res = await fetch(`${server!.base}/api/customers/export.csv`, {
          headers: { cookie: browser.cookie }
        });
        if (res.status !== 200 || !res.body) throw new Error(`export: ${res.status}`);
        let lines = 0;
        let bytes = 0;
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          bytes += chunk.length;
          for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++;
        }
        return { lines, bytes };
      });
      const serverCpuMs = (cpuMs(server.pid) ?? 0) - serverCpu0;
      const { lines, bytes } = counted;
      const seconds = (now() - t0) / 1000;
      clearInterval(sampler);
      const after = memory(server.pid);
      const rows = lines - 1;
      exportResult = {
        rows,
        mib: Math.round((bytes / 1048576) * 10) / 10,
        seconds: Math.round(seconds * 10) / 10,
        rowsPerSecond: Math.round(rows / seconds),
        serverCpuUsPerRow: Math.round((serverCpuMs * 1000 * 10) / rows) / 10,
        databaseCpuUsPerRow: Math.round((dbCpuMs * 1000 * 10) / rows) / 10,
        rssAtStartMiB: Math.round(rssAtStart),
        rssBeforeMiB: Math.round(before.rssMiB),
        rssPeakSampledMiB: Math.round(Math.max(peak, after.rssMiB)),
        vmHwmMiB: Math.round(after.peakMiB),
        vmHwmIsExportOnly: hwmReset,
        met: rows / seconds >= 50_000 && after.peakMiB <= 200
      };
      say(`  ${JSON.stringify(exportResult)}`);
    }
    const loadAfter = os.loadavg();

    printTable(
      `CRM tables at ${counts.customers.toLocaleString('en')} customers / ${counts.orders.toLocaleString('en')} orders (HTTP, ${RUNS} runs after 2 warm-ups; ms)`,
      results.map((r) => ({
        case: r.case,
        p50: r.p50,
        p95: r.p95,
        target: `<= ${r.target}`,
        met: r.met ? 'yes' : 'NO'
      }))
    );
    if (exportResult)
      process.stdout.write(
        `\nExport: ${exportResult.rows} rows (${exportResult.mib} MiB) in ${exportResult.seconds} s = ${exportResult.rowsPerSecond} rows/s (target >= 50,000); ` +
          `CPU a row: server ${exportResult.serverCpuUsPerRow} µs, database ${exportResult.databaseCpuUsPerRow} µs; ` +
          `server RSS ${exportResult.rssBeforeMiB} MiB before, peak ${exportResult.rssPeakSampledMiB} MiB sampled, VmHWM ${exportResult.vmHwmMiB} MiB${exportResult.vmHwmIsExportOnly ? ' during the export' : ' over the whole run'} (target <= 200): ${exportResult.met ? 'met' : 'NOT met'}\n`
      );
    process.stdout.write(
      `Load average before/after: ${loadBefore.map((l) => l.toFixed(1)).join(' ')} / ${loadAfter.map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs.\n`
    );
    const dir = path.join(root, 'tests/bench/results');
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, `crm-${counts.customers}${values.only ? '-only' : ''}.json`);
    await writeFile(
      file,
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          machine: {
            cpus: os.cpus().length,
            model: os.cpus()[0]?.model,
            loadAverageBefore: loadBefore,
            loadAverageAfter: loadAfter
          },
          data: counts,
          seedSeconds: db.seedSeconds,
          runs: RUNS,
          results: results.map((r) => ({
            ...r,
            p50: Math.round(r.p50 * 10) / 10,
            p95: Math.round(r.p95 * 10) / 10
          })),
          export: exportResult
        },
        null,
        2
      )}\n`
    );
    process.stdout.write(`Wrote ${path.relative(root, file)}\n`);
  } finally {
    await server?.stop();
    await sql.end();
    await db.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`bench:crm failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
