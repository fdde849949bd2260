import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startThrowawayPostgres } from '../support/postgres.js';

/** Wall-clock milliseconds with sub-millisecond precision, comparable across this process. */
export const now = () => performance.timeOrigin + performance.now();

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summarize(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? NaN
  };
}

/** `work` timed `runs` times after `warmups` untimed runs (plans and caches, as on a server that has been up a while). */
export async function timed(runs: number, work: () => Promise<unknown>, warmups = 1) {
  for (let i = 0; i < warmups; i++) await work();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = now();
    await work();
    samples.push(now() - t0);
  }
  return summarize(samples);
}

/**
 * The Postgres a benchmark runs against: BENCH_DATABASE_URL if set (left as it is on stop), else a
 * fresh embedded cluster, deleted on stop. `fast` turns durability off (only where commits are not measured).
 */
export async function benchDatabase(opts: {
  prefix: string;
  fast?: boolean;
}): Promise<{ url: string; stop(): Promise<void> }> {
  if (process.env.BENCH_DATABASE_URL)
    return { url: process.env.BENCH_DATABASE_URL, stop: async () => undefined };
  return startThrowawayPostgres(opts);
}

/** Writes `data` to bench-results/<name>.json at the repository root and says so. */
export async function writeResults(name: string, data: unknown) {
  const dir = path.resolve(import.meta.dirname, '../../bench-results');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, `${name}.json`), `${JSON.stringify(data, null, 2)}\n`);
  process.stdout.write(`\nWrote bench-results/${name}.json\n`);
}

const CLK_TCK = 100;

/** CPU time (ms) and resident memory (MiB) of a process, from /proc. */
export function processUsage(pid: number) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuMs = ((Number(fields[11]) + Number(fields[12])) / CLK_TCK) * 1000;
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuMs, rssMiB: rss ? Number(rss[1]) / 1024 : NaN };
}

/** Prints rows as an aligned table. */
export function printTable(title: string, rows: Record<string, string | number>[]) {
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]);
  const cell = (v: string | number) =>
    typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : v;
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padStart(widths[i])).join('  ');
  process.stdout.write(`\n${title}\n${line(cols)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const r of rows) process.stdout.write(`${line(cols.map((c) => cell(r[c])))}\n`);
}

/** Runs `tick` at `perSecond` for `seconds`, catching up when a tick runs late. */
export async function paced(perSecond: number, seconds: number, tick: (i: number) => Promise<void>) {
  const start = now();
  const total = Math.round(perSecond * seconds);
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / perSecond;
    const wait = due - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await tick(i);
  }
}
