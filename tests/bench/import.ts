// npm run bench:import [-- --rows 1000000 --baseline-rows 20000 --connections 2]
// A customer file of --rows rows (generated under /work/bench-import, or BENCH_IMPORT_DIR)
// imported through the import pipeline (streamed parse, COPY into staging, one set-based upsert a
// batch, --connections batches applying at once), then imported again (nothing changes: the
// idempotent path), against a baseline in the same run: the same kind of rows written one
// INSERT ... ON CONFLICT a row, on a smaller file.
// Prints a table (rows, seconds, rows/s, peak RSS) and writes JSON next to the data.
import { createReadStream, createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { suggestMapping } from '#shared/schemas/imports.js';
import { startEmbeddedPostgres } from '../../db/embedded.js';
import { migrateDatabase } from '../../db/migrate.js';
import { runImport } from '../../server/services/integrations/import/pipeline.js';
import { withDatabase } from '../support/postgres.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    'baseline-rows': { type: 'string', default: '20000' },
    /** Connections applying batches at once (1: the batches apply on the import's own). */
    connections: { type: 'string', default: '2' }
  }
});
const ROWS = Number(values.rows);
const BASELINE_ROWS = Number(values['baseline-rows']);
const CONNECTIONS = Number(values.connections);
const DIR = process.env.BENCH_IMPORT_DIR ?? '/work/bench-import';

/** Peak resident memory since the last reset, in MiB (Linux: VmHWM, reset through clear_refs). */
function resetPeak() {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    /* not Linux: the peak is the process's */
  }
}
/**
 * CPU seconds a process has used (user + system), from /proc: the database backend of a
 * connection is a process of its own here. Null where /proc cannot be read. Unlike seconds of
 * wall time, this barely moves with the machine's load.
 */
function cpuSecondsOf(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ (100/s)
  } catch {
    return null;
  }
}
const nodeCpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};
/** The CPU used by this process and by the connections' backends while `work` runs. */
async function measuringCpu<T>(clients: pg.Client[], work: () => Promise<T>) {
  const pids: number[] = [];
  for (const client of clients)
    pids.push((await client.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`)).rows[0].pid);
  const backends = () => {
    const each = pids.map(cpuSecondsOf);
    return each.some((s) => s === null) ? null : (each as number[]).reduce((a, b) => a + b, 0);
  };
  const db0 = backends();
  const node0 = nodeCpuSeconds();
  const result = await work();
  const db1 = backends();
  return {
    result,
    nodeCpuSeconds: nodeCpuSeconds() - node0,
    dbCpuSeconds: db0 === null || db1 === null ? null : db1 - db0
  };
}

function peakMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : Math.round(process.resourceUsage().maxRSS / 1024);
}

async function generate(file: string, rows: number) {
  if (existsSync(file)) return;
  const out = createWriteStream(file);
  out.write('email,first_name,last_name,phone,language,tags,marketing_consent\n');
  const first = ['Ann', 'Bob', 'Chloé', 'Dmitri', 'Eve', 'Farid', 'Grace', 'Hiro'];
  const last = ['Lee', 'Martin', 'Nguyen', 'Okafor', 'Pérez', 'Quinn', 'Rossi', 'Smith'];
  let chunk = '';
  for (let i = 1; i <= rows; i++) {
    chunk += `bench${i}@example.com,${first[i % 8]},${last[(i >> 3) % 8]},+1 555 ${String(i % 10_000_000).padStart(7, '0')},en,${i % 5 === 0 ? 'vip|bench' : 'bench'},${i % 3 === 0 ? 'yes' : 'no'}\n`;
    if (i % 10_000 === 0 || i === rows) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end();
  await once(out, 'finish');
}

async function freshDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = withDatabase(adminUrl, name);
  await migrateDatabase(url);
  return url;
}

interface Result {
  run: string;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  peakRssMiB: number;
  /** CPU seconds of the importing process, and of its database connections' backends. */
  nodeCpuSeconds: number;
  dbCpuSeconds: number | null;
  imported: number;
  updated: number;
  rejected: number;
}

async function viaPipeline(url: string, file: string, run: string): Promise<Result> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const appliers: pg.Client[] = [];
  for (let i = 0; CONNECTIONS > 1 && i < CONNECTIONS; i++) {
    appliers.push(new pg.Client({ connectionString: url }));
    await appliers[i].connect();
  }
  resetPeak();
  const t0 = performance.now();
  const columns = ['email', 'first_name', 'last_name', 'phone', 'language', 'tags', 'marketing_consent'];
  const {
    result: totals,
    nodeCpuSeconds,
    dbCpuSeconds
  } = await measuringCpu([client, ...appliers], () =>
    runImport({
      client,
      appliers,
      entity: 'customers',
      options: {
        format: 'csv',
        encoding: 'utf-8',
        delimiter: ',',
        header: true,
        mapping: suggestMapping('customers', columns)
      },
      source: createReadStream(file),
      dryRun: false
    })
  );
  const seconds = (performance.now() - t0) / 1000;
  await client.end();
  for (const a of appliers) await a.end();
  return {
    run,
    rows: totals.rows,
    seconds,
    rowsPerSecond: Math.round(totals.rows / seconds),
    peakRssMiB: peakMiB(),
    nodeCpuSeconds,
    dbCpuSeconds,
    imported: totals.imported,
    updated: totals.updated,
    rejected: totals.rejected
  };
}

/** The baseline: one statement a row (what an import without COPY and batches does). */
async function rowByRow(url: string, file: string): Promise<Result> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  resetPeak();
  const t0 = performance.now();
  const { parse } = await import('csv-parse');
  let rows = 0;
  let imported = 0;
  const { pid } = (await client.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`)).rows[0];
  const db0 = cpuSecondsOf(pid);
  const node0 = nodeCpuSeconds();
  for await (const r of createReadStream(file).pipe(parse({ columns: true })) as AsyncIterable<
    Record<string, string>
  >) {
    rows++;
    const res = await client.query(
      `INSERT INTO customers (email, first_name, last_name, phone, language, tags, marketing_consent, marketing_consent_at)
       VALUES ($1, $2, $3, $4, $5, string_to_array($6, '|'), $7, CASE WHEN $7 THEN now() END)
       ON CONFLICT ((lower(email))) DO NOTHING`,
      [r.email, r.first_name, r.last_name, r.phone, r.language, r.tags, r.marketing_consent === 'yes']
    );
    imported += res.rowCount ?? 0;
  }
  const seconds = (performance.now() - t0) / 1000;
  const db1 = cpuSecondsOf(pid);
  await client.end();
  return {
    run: 'baseline: one INSERT a row',
    rows,
    seconds,
    rowsPerSecond: Math.round(rows / seconds),
    peakRssMiB: peakMiB(),
    nodeCpuSeconds: nodeCpuSeconds() - node0,
    dbCpuSeconds: db0 === null || db1 === null ? null : db1 - db0,
    imported,
    updated: 0,
    rejected: 0
  };
}

async function main() {
  await mkdir(DIR, { recursive: true });
  const big = path.join(DIR, `customers-${ROWS}.csv`);
  const small = path.join(DIR, `customers-${BASELINE_ROWS}.csv`);
  console.log(`generating ${big} and ${small} (kept for later runs)...`);
  await generate(big, ROWS);
  await generate(small, BASELINE_ROWS);

  let stop = async () => undefined as void;
  let adminUrl = process.env.BENCH_DATABASE_URL;
  if (!adminUrl) {
    const db = await startEmbeddedPostgres({ dir: path.join(DIR, 'postgres'), port: 55425 });
    adminUrl = db.url;
    stop = db.stop;
  }
  const results: Result[] = [];
  try {
    const baselineUrl = await freshDatabase(adminUrl, 'bench_import_baseline');
    results.push(await rowByRow(baselineUrl, small));
    const smallUrl = await freshDatabase(adminUrl, 'bench_import_small');
    results.push(
      await viaPipeline(smallUrl, small, `pipeline, ${BASELINE_ROWS} rows (same file as the baseline)`)
    );
    const url = await freshDatabase(adminUrl, 'bench_import_big');
    results.push(await viaPipeline(url, big, `pipeline, ${ROWS} rows into an empty table`));
    results.push(await viaPipeline(url, big, `pipeline, the same ${ROWS} rows again (nothing changes)`));
  } finally {
    await stop();
  }
  console.log('');
  console.table(
    results.map((r) => ({
      run: r.run,
      rows: r.rows,
      seconds: r.seconds.toFixed(1),
      'rows/s': r.rowsPerSecond,
      'peak RSS MiB': r.peakRssMiB,
      'node CPU s': r.nodeCpuSeconds.toFixed(1),
      'db CPU s': r.dbCpuSeconds?.toFixed(1) ?? '-',
      imported: r.imported,
      updated: r.updated,
      rejected: r.rejected
    }))
  );
  const speedup = results[1].rowsPerSecond / results[0].rowsPerSecond;
  console.log(`pipeline vs one INSERT a row on the same file: ${speedup.toFixed(1)}x`);
  console.log(`batches applied on ${CONNECTIONS} connection(s) at once`);
  // The machine's load, as the numbers above depend on it (1, 5 and 15 minute averages).
  const loadAverage = os.loadavg().map((l) => Number(l.toFixed(1)));
  console.log(`load average at the end: ${loadAverage.join(', ')} (${os.cpus().length} cores)`);
  const out = path.join(DIR, 'import-bench.json');
  writeFileSync(
    out,
    JSON.stringify(
      { at: new Date().toISOString(), rows: ROWS, connections: CONNECTIONS, results, speedup, loadAverage },
      null,
      2
    )
  );
  console.log(`wrote ${out}`);
}

await main();
