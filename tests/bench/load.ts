// npm run bench:load -- [--quick] [--sockets N]
//
// Many screens and API traffic at once on this machine, on one Pulse node and on two behind
// HAProxy: 1,000 sockets (manager dashboards, agents, customer watchers) while the shop writes
// orders and tickets by SQL at a rising rate and API clients read the orders table. Measures
// commit-to-client latency, delivered messages/s, API latency and throughput, server CPU and RSS
// (per socket), and the rate at which one node stops meeting p95 <= 30 ms. The baseline in the
// same run is 100 sockets at the same rate. Prints tables and writes bench-results/load.json.
import { execFileSync, spawnSync } from 'node:child_process';
import os from 'node:os';
import pg from 'pg';
import { migrateDatabase } from '../../db/migrate.js';
import { Balancer, findHaproxy, freePort } from '../chaos/cluster.js';
import { createCustomer, createTeam, createUser } from '../support/fixtures.js';
import { Browser } from '../support/http.js';
import { startChildServer, type ChildServer } from '../support/processes.js';
import { until } from '../support/socket.js';
import { benchDatabase, now, paced, printTable, processUsage, summarize, writeResults } from './measure.js';
import { RawDashboard } from './raw-dashboard.js';

// Each socket is a file descriptor on both ends: raise the soft open-file limit to the hard one
// by running again under a shell that sets it (Node cannot call setrlimit itself).
if (!process.env.PULSE_BENCH_ULIMIT) {
  const hard = execFileSync('bash', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim();
  const result = spawnSync(
    'bash',
    [
      '-c',
      `ulimit -n ${hard} && exec "$0" "$@"`,
      process.execPath,
      ...process.execArgv,
      ...process.argv.slice(1)
    ],
    { stdio: 'inherit', env: { ...process.env, PULSE_BENCH_ULIMIT: hard } }
  );
  process.exit(result.status ?? 1);
}

const quick = process.argv.includes('--quick');
const SECONDS = quick ? 4 : 10;
const SOCKETS = Number(process.argv[process.argv.indexOf('--sockets') + 1]) || (quick ? 300 : 1000);
const RATES = quick ? [32, 64] : [16, 32, 64, 128, 256];
const TARGET_P95_MS = 30;
/** API requests a second reading the orders table (a page of 50, newest first), alongside the sockets. */
const API_PER_SECOND = 50;

interface Setup {
  sql: pg.Pool;
  url: string;
  managers: string[];
  agents: string[];
  customerId: number;
  teamIds: number[];
}

async function setup(url: string): Promise<Setup> {
  await migrateDatabase(url);
  const sql = new pg.Pool({ connectionString: url, max: 20 });
  sql.on('error', () => undefined);
  const teamIds = [await createTeam(sql, 'Load A'), await createTeam(sql, 'Load B')];
  const managers = await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      createUser(sql, { email: `load-manager-${i}@bench.dev`, role: 'manager' })
    )
  );
  const agents = await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      createUser(sql, { email: `load-agent-${i}@bench.dev`, role: 'agent', teamId: teamIds[i % 2] })
    )
  );
  const customerId = await createCustomer(sql, 'load@bench.dev');
  await sql.query(
    `INSERT INTO orders (customer_id, total, order_date) SELECT $1, 10 + g % 90, now() - g * interval '1 minute'
       FROM generate_series(1, 5000) g`,
    [customerId]
  );
  return {
    sql,
    url,
    managers: managers.map((m) => m.email),
    agents: agents.map((a) => a.email),
    customerId,
    teamIds
  };
}

interface Target {
  url: string;
  pids: () => number[];
  stop(): Promise<void>;
}

async function oneNode(dbUrl: string): Promise<Target> {
  const server = await startChildServer(dbUrl, {}, { API_SESSION_RATE_PER_SECOND: '0' });
  return { url: server.url, pids: () => [server.pid], stop: () => server.stop() };
}

async function twoNodes(dbUrl: string): Promise<Target> {
  const servers: ChildServer[] = await Promise.all(
    [0, 1].map(() => startChildServer(dbUrl, {}, { API_SESSION_RATE_PER_SECOND: '0' }))
  );
  const haproxy = findHaproxy((m) => process.stdout.write(`${m}\n`));
  const balancer = new Balancer(
    haproxy,
    await freePort(),
    servers.map((s, i) => ({ name: `node-${i}`, port: Number(new URL(s.url).port) })),
    os.tmpdir()
  );
  await balancer.start();
  return {
    url: balancer.url,
    pids: () => servers.map((s) => s.pid),
    stop: async () => {
      balancer.stop();
      await Promise.all(servers.map((s) => s.stop()));
    }
  };
}

/** Sessions, one after another (sign-ins in flight from one address count against it). */
async function sessions(url: string, emails: string[]) {
  const cookies: string[] = [];
  for (const e of emails) cookies.push((await Browser.signedIn(url, e)).cookie);
  return cookies;
}

/** A mix like a real shop floor: 70% manager dashboards, 30% agents on their team's queue. */
async function connect(target: Target, s: Setup, count: number) {
  const managerCookies = await sessions(target.url, s.managers);
  const agentCookies = await sessions(target.url, s.agents);
  const dashboards: RawDashboard[] = [];
  const agents: RawDashboard[] = [];
  // Round robin over the users of each kind, so no user holds more sockets than one process allows.
  let nextManager = 0;
  let nextAgent = 0;
  for (let i = 0; i < count; i += 50) {
    const batch = Array.from({ length: Math.min(50, count - i) }, (_, j) => {
      const n = i + j;
      return n % 10 < 7
        ? {
            kind: 'dashboard',
            socket: new RawDashboard(target.url, managerCookies[nextManager++ % managerCookies.length], [
              'order:created'
            ])
          }
        : {
            kind: 'agent',
            socket: new RawDashboard(target.url, agentCookies[nextAgent++ % agentCookies.length], [
              'ticket:created'
            ])
          };
    });
    await Promise.all(batch.map((b) => b.socket.ready));
    for (const b of batch) (b.kind === 'dashboard' ? dashboards : agents).push(b.socket);
  }
  return { dashboards, agents, cookie: managerCookies[0] };
}

/** API readers of the orders table for `seconds`, at API_PER_SECOND: latencies and requests/s. */
async function apiLoad(url: string, cookie: string, seconds: number) {
  const lat: number[] = [];
  let errors = 0;
  const one = async () => {
    const t0 = now();
    const res = await fetch(`${url}/api/orders?limit=50&sort=-orderDate`, { headers: { cookie } }).catch(
      () => null
    );
    await res?.arrayBuffer();
    if (!res || res.status !== 200) errors++;
    else lat.push(now() - t0);
  };
  // Paced, not closed-loop: requests arrive at the rate a team's screens make them, whether or not
  // the last one has been answered (a closed loop would take all the CPU the events are measured on).
  const inflight: Promise<void>[] = [];
  await paced(API_PER_SECOND, seconds, async () => void inflight.push(one()));
  await Promise.all(inflight);
  return { ...summarize(lat), perSec: lat.length / seconds, errors };
}

/** Orders (and a ticket for every eighth) written by SQL at `rate` per second, with API readers alongside. */
async function measure(target: Target, s: Setup, sockets: Awaited<ReturnType<typeof connect>>, rate: number) {
  const run = `L${Date.now()}`;
  const sent = new Map<string, number>();
  const lat: number[] = [];
  const seen = sockets.dashboards.map(() => new Set<number>());
  let agentFrames = 0;
  sockets.dashboards.forEach((d, i) => {
    d.onEvent = (_e, seq, key, at) => {
      const t0 = sent.get(key ?? '');
      if (t0 === undefined) return;
      lat.push(at - t0);
      seen[i].add(seq);
    };
  });
  for (const a of sockets.agents) a.onEvent = () => void agentFrames++;
  const writer = await s.sql.connect();
  const before = target.pids().map(processUsage);
  const t0 = now();
  const [, api] = await Promise.all([
    paced(rate, SECONDS, async (i) => {
      const key = `${run}-${i}`;
      sent.set(key, now());
      await writer.query(`INSERT INTO orders (customer_id, total, external_id) VALUES ($1, 10, $2)`, [
        s.customerId,
        key
      ]);
      if (i % 8 === 0)
        await writer.query(`INSERT INTO tickets (customer_id, team_id, subject) VALUES ($1, $2, 'Load')`, [
          s.customerId,
          s.teamIds[i % 2]
        ]);
    }),
    apiLoad(target.url, sockets.cookie, SECONDS)
  ]);
  writer.release();
  await until(() => seen.every((m) => m.size >= sent.size), 15_000).catch(() => undefined);
  const elapsed = (now() - t0) / 1000;
  const after = target.pids().map(processUsage);
  const cpuMs = after.reduce((sum, a, i) => sum + a.cpuMs - before[i].cpuMs, 0);
  const rssMiB = after.reduce((sum, a) => sum + a.rssMiB, 0);
  const missing = seen.reduce((sum, m) => sum + Math.max(0, sent.size - m.size), 0);
  const events = summarize(lat);
  return {
    events,
    deliveredPerSec: (lat.length + agentFrames) / elapsed,
    api,
    serverCpuPct: (cpuMs / (elapsed * 1000)) * 100,
    rssMiB,
    missing
  };
}

async function main() {
  const db = await benchDatabase({ prefix: 'pulse-load-' });
  const s = await setup(db.url);
  const results: Record<string, unknown> = {
    machine: { cpus: os.cpus().length, node: process.version, openFiles: process.env.PULSE_BENCH_ULIMIT },
    quick,
    at: new Date().toISOString(),
    targetP95Ms: TARGET_P95_MS
  };
  const table: Record<string, string | number>[] = [];
  const runs: Record<string, unknown>[] = [];
  const row = (nodes: number, count: number, rate: number, r: Awaited<ReturnType<typeof measure>>) => {
    runs.push({ nodes, sockets: count, rate, ...r });
    table.push({
      nodes,
      sockets: count,
      'changes/s': rate,
      'event p50': r.events.p50,
      'event p95': r.events.p95,
      'event p99': r.events.p99,
      'msg/s': Math.round(r.deliveredPerSec),
      'api p50': r.api.p50,
      'api p99': r.api.p99,
      'api req/s': Math.round(r.api.perSec),
      'cpu%': r.serverCpuPct,
      'rss MiB': r.rssMiB,
      'KiB/socket': ((r.rssMiB * 1024) / count).toFixed(0),
      missing: r.missing
    });
  };
  try {
    let degradesAt = null as number | null;
    for (const nodes of [1, 2]) {
      const target = nodes === 1 ? await oneNode(db.url) : await twoNodes(db.url);
      try {
        // Baseline: few sockets at the target rate.
        const few = await connect(target, s, 100);
        row(nodes, 100, 64, await measure(target, s, few, 64));
        for (const d of [...few.dashboards, ...few.agents]) d.close();
        const many = await connect(target, s, SOCKETS);
        const rates: number[] = nodes === 1 ? RATES : [64, ...(degradesAt !== null ? [degradesAt] : [])];
        for (const rate of rates) {
          const r = await measure(target, s, many, rate);
          row(nodes, SOCKETS, rate, r);
          if (nodes === 1 && degradesAt === null && (r.events.p95 > TARGET_P95_MS || r.missing > 0)) {
            degradesAt = rate;
            break;
          }
        }
        for (const d of [...many.dashboards, ...many.agents]) d.close();
      } finally {
        await target.stop();
      }
    }
    printTable(
      `Load: sockets (70% dashboards, 30% agents), SQL changes/s, event and API latency (ms), both nodes' CPU and RSS`,
      table
    );
    const oneNodeAt64 = runs.find((r) => r.nodes === 1 && r.sockets === SOCKETS && r.rate === 64) as
      { events: { p95: number }; missing: number } | undefined;
    results.runs = runs;
    results.table = table;
    results.degradesAtChangesPerSec = degradesAt;
    results.target = {
      description: `${SOCKETS} sockets x 64 changes/s on one node: p95 <= ${TARGET_P95_MS} ms, nothing missing`,
      met: oneNodeAt64 ? oneNodeAt64.events.p95 <= TARGET_P95_MS && oneNodeAt64.missing === 0 : false
    };
    process.stdout.write(
      `\nOne node ${degradesAt ? `first misses p95 <= ${TARGET_P95_MS} ms at ${degradesAt} changes/s` : `meets p95 <= ${TARGET_P95_MS} ms at every rate tried`}; target (${SOCKETS} x 64/s) ${(results.target as { met: boolean }).met ? 'met' : 'missed'}.\n`
    );
    await writeResults('load', results);
  } finally {
    await s.sql.end();
    await db.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : err}\n`);
    process.exit(1);
  }
);
