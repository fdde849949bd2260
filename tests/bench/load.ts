// npm run bench:load -- [--quick] [--sockets N]
//
// Many screens and API traffic at once on this machine, on one Pulse node and on two behind
// HAProxy: 1,000 sockets (manager dashboards, agents, customer watchers) while the shop writes
// orders and tickets by SQL at a rising rate and API clients read the orders table. Measures
// commit-to-client latency, delivered messages/s, API latency and throughput, server CPU and RSS
// (per socket), and the rate at which one node stops meeting p95 <= 30 ms. The baseline in the
// same run is 100 sockets at the same rate. Prints tables and writes bench-results/load.json.
// The clients run in processes of their own (load-clients.ts, `--client-processes N`, default 2),
// so the CPU of each part is counted apart: server, clients, Postgres, and the bench (the writer
// and the API readers). The figure that survives a busy machine is the server's CPU per delivered
// frame and per change (µs/msg, µs/change); latencies need a quiet one. `--nodes 1`, `--rates
// 64,128` narrow a run; `--profile` writes V8 CPU profiles of the node and the clients.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { migrateDatabase } from '../../db/migrate.js';
import { Balancer, findHaproxy, freePort } from '../chaos/cluster.js';
import { createCustomer, createTeam, createUser } from '../support/fixtures.js';
import { Browser } from '../support/http.js';
import { startChildServer, type ChildServer } from '../support/processes.js';
import { orderKey, type ClientKind, type FromClients, type ToClients } from './load-clients.js';
import { benchDatabase, now, paced, printTable, processUsage, summarize, writeResults } from './measure.js';

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
const option = (name: string) =>
  process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined;
const SECONDS = quick ? 4 : 10;
const SOCKETS = Number(option('--sockets')) || (quick ? 300 : 1000);
/** `--rates 64,128`: the one-node rates, all of them (the default ramp stops at the first miss). */
const RATES = option('--rates')?.split(',').map(Number) ?? (quick ? [32, 64] : [16, 32, 64, 128, 256]);
const STOP_AT_FIRST_MISS = option('--rates') === undefined;
/** `--nodes 1`: one node only (skips the two-node runs). */
const NODES = option('--nodes') === '1' ? [1] : [1, 2];
/** Processes the clients' sockets are spread over (`--client-processes N`). */
const CLIENT_PROCESSES = Number(option('--client-processes')) || 2;
const TARGET_P95_MS = 30;
/** API requests a second reading the orders table (a page of 50, newest first), alongside the sockets (`--api N`; 0: none, for the live path's own CPU). */
const API_PER_SECOND = option('--api') === undefined ? 50 : Number(option('--api'));
/** `--profile`: the servers and the clients' processes write V8 CPU profiles to bench-results/profiles. */
const PROFILE = process.argv.includes('--profile');
/** The environment of a profiled part (`server`, `clients`): see cpu-profile.mjs. */
const profileEnv = (part: string): Record<string, string> =>
  PROFILE
    ? {
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${path.resolve(import.meta.dirname, 'cpu-profile.mjs')}`,
        PULSE_CPU_PROFILE_DIR: path.resolve(import.meta.dirname, '../../bench-results/profiles', part)
      }
    : {};

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
  const server = await startChildServer(dbUrl, profileEnv('server'), { API_SESSION_RATE_PER_SECOND: '0' });
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

/** The clients' processes: each holds a share of the sockets and answers over IPC (load-clients.ts). */
class Clients {
  private readonly procs: ChildProcess[];
  private readonly waiting = new Map<ChildProcess, ((msg: FromClients) => void)[]>();

  constructor(count: number) {
    this.procs = Array.from({ length: count }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'tests/bench/load-clients.ts'], {
        cwd: path.resolve(import.meta.dirname, '../..'),
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: { ...process.env, ...profileEnv('clients') }
      });
      child.on('message', (msg: FromClients) => this.waiting.get(child)?.shift()?.(msg));
      this.waiting.set(child, []);
      return child;
    });
  }

  get pids() {
    return this.procs.map((p) => p.pid!);
  }

  /** Sends `msg` to every process and waits for each one's answer. */
  private ask(msg: ToClients | ((i: number) => ToClients)): Promise<FromClients[]> {
    return Promise.all(
      this.procs.map(
        (child, i) =>
          new Promise<FromClients>((resolve, reject) => {
            this.waiting
              .get(child)!
              .push((answer) =>
                answer.type === 'failed' ? reject(new Error(answer.message)) : resolve(answer)
              );
            child.send(typeof msg === 'function' ? msg(i) : msg);
          })
      )
    );
  }

  connect(url: string, sockets: { cookie: string; kind: ClientKind }[]) {
    return this.ask((i) => ({
      type: 'connect',
      url,
      sockets: sockets.filter((_, n) => n % this.procs.length === i)
    }));
  }

  start(run: string) {
    for (const child of this.procs) child.send({ type: 'start', run } satisfies ToClients);
  }

  async minSeen() {
    const answers = await this.ask({ type: 'progress' });
    return Math.min(...answers.map((a) => (a.type === 'progress' ? a.minSeen : 0)));
  }

  async collect(sent: number) {
    const answers = await this.ask({ type: 'collect', sent });
    const latencies: number[] = [];
    let missing = 0;
    let agentFrames = 0;
    for (const a of answers) {
      if (a.type !== 'collected') continue;
      for (const l of a.latencies) latencies.push(l);
      missing += a.missing;
      agentFrames += a.agentFrames;
    }
    return { latencies, missing, agentFrames };
  }

  async close() {
    await Promise.all(
      this.procs.map((child) => {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.send({ type: 'close' } satisfies ToClients);
        return exited;
      })
    );
  }
}

/** A mix like a real shop floor: 70% manager dashboards, 30% agents on their team's queue. */
async function connect(target: Target, s: Setup, count: number) {
  const managerCookies = await sessions(target.url, s.managers);
  const agentCookies = await sessions(target.url, s.agents);
  // Round robin over the users of each kind, so no user holds more sockets than one process allows.
  let nextManager = 0;
  let nextAgent = 0;
  const sockets = Array.from({ length: count }, (_, n) =>
    n % 10 < 7
      ? { kind: 'dashboard' as const, cookie: managerCookies[nextManager++ % managerCookies.length] }
      : { kind: 'agent' as const, cookie: agentCookies[nextAgent++ % agentCookies.length] }
  );
  const clients = new Clients(CLIENT_PROCESSES);
  await clients.connect(target.url, sockets);
  return { clients, cookie: managerCookies[0] };
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

/** CPU time (ms) of the embedded Postgres: the postmaster, its live backends and the ones it has reaped. */
async function postgresCpuMs(sql: pg.Pool): Promise<number> {
  const { rows } = await sql.query<{ dir: string }>(`SELECT current_setting('data_directory') AS dir`);
  const postmaster = Number(readFileSync(path.join(rows[0].dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const fields = (pid: number) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  };
  const main = fields(postmaster);
  let ticks = [11, 12, 13, 14].reduce((sum, f) => sum + Number(main[f]), 0);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const f = fields(Number(entry));
      if (Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks * 10;
}

/**
 * Reads of the change log by the node(s) so far: every read also reads change_log_retention once
 * (change-reader.ts), and nothing else scans that one-row table while the bench runs. Backends
 * publish their counts when idle, at most once a second, so a caller waits STATS_FLUSH_MS first.
 */
async function changeReads(sql: pg.Pool): Promise<number> {
  const { rows } = await sql.query<{ n: string }>(
    `SELECT seq_scan + coalesce(idx_scan, 0) AS n FROM pg_stat_user_tables WHERE relname = 'change_log_retention'`
  );
  return Number(rows[0]?.n ?? 0);
}
const STATS_FLUSH_MS = 1_500;

/** Orders (and a ticket for every eighth) written by SQL at `rate` per second, with API readers alongside. */
async function measure(target: Target, s: Setup, sockets: Awaited<ReturnType<typeof connect>>, rate: number) {
  const run = `L${Date.now()}`;
  let sent = 0;
  let changes = 0;
  sockets.clients.start(run);
  const writer = await s.sql.connect();
  const cpu = (): { server: number; clients: number; bench: number; postgres: Promise<number> } => ({
    server: target.pids().reduce((sum, pid) => sum + processUsage(pid).cpuMs, 0),
    clients: sockets.clients.pids.reduce((sum, pid) => sum + processUsage(pid).cpuMs, 0),
    bench: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
    postgres: postgresCpuMs(s.sql)
  });
  const readsBefore = await changeReads(s.sql);
  const before = cpu();
  const t0 = now();
  const [, api] = await Promise.all([
    paced(rate, SECONDS, async (i) => {
      await writer.query(`INSERT INTO orders (customer_id, total, external_id) VALUES ($1, 10, $2)`, [
        s.customerId,
        orderKey(run, i, now())
      ]);
      sent++;
      changes++;
      if (i % 8 === 0) {
        await writer.query(`INSERT INTO tickets (customer_id, team_id, subject) VALUES ($1, $2, 'Load')`, [
          s.customerId,
          s.teamIds[i % 2]
        ]);
        changes++;
      }
    }),
    apiLoad(target.url, sockets.cookie, SECONDS)
  ]);
  writer.release();
  const deadline = now() + 15_000;
  while ((await sockets.clients.minSeen()) < sent && now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  const elapsed = (now() - t0) / 1000;
  const after = cpu();
  const used = {
    server: after.server - before.server,
    clients: after.clients - before.clients,
    bench: after.bench - before.bench,
    postgres: (await after.postgres) - (await before.postgres)
  };
  const rssMiB = target.pids().reduce((sum, pid) => sum + processUsage(pid).rssMiB, 0);
  const { latencies, missing, agentFrames } = await sockets.clients.collect(sent);
  await new Promise((r) => setTimeout(r, STATS_FLUSH_MS));
  const reads = (await changeReads(s.sql)) - readsBefore;
  const delivered = latencies.length + agentFrames;
  const pct = (ms: number) => (ms / (elapsed * 1000)) * 100;
  return {
    events: summarize(latencies),
    deliveredPerSec: delivered / elapsed,
    api,
    serverCpuPct: pct(used.server),
    clientsCpuPct: pct(used.clients),
    benchCpuPct: pct(used.bench),
    postgresCpuPct: pct(used.postgres),
    /** Server CPU per frame delivered and per change written: a cost that holds on a busy machine. */
    serverUsPerMessage: (used.server * 1000) / Math.max(1, delivered),
    serverUsPerChange: (used.server * 1000) / Math.max(1, changes),
    /** The clients' CPU per frame received: what the bench's own receivers take from the same cores. */
    clientsUsPerMessage: (used.clients * 1000) / Math.max(1, delivered),
    /** The node(s)' reads of the change log per second, and per change written (the reader's own cost on Postgres). */
    readsPerSec: reads / elapsed,
    readsPerChange: reads / Math.max(1, changes),
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
      'µs/msg': r.serverUsPerMessage,
      'µs/change': Math.round(r.serverUsPerChange),
      'clients cpu%': r.clientsCpuPct,
      'clients µs/msg': r.clientsUsPerMessage,
      'pg cpu%': r.postgresCpuPct,
      'reads/s': Math.round(r.readsPerSec),
      'reads/change': r.readsPerChange.toFixed(2),
      'bench cpu%': r.benchCpuPct,
      'rss MiB': r.rssMiB,
      'KiB/socket': ((r.rssMiB * 1024) / count).toFixed(0),
      missing: r.missing
    });
  };
  try {
    let degradesAt = null as number | null;
    for (const nodes of NODES) {
      const target = nodes === 1 ? await oneNode(db.url) : await twoNodes(db.url);
      try {
        // Baseline: few sockets at the target rate.
        const few = await connect(target, s, 100);
        row(nodes, 100, 64, await measure(target, s, few, 64));
        await few.clients.close();
        const many = await connect(target, s, SOCKETS);
        const rates: number[] = nodes === 1 ? RATES : [64, ...(degradesAt !== null ? [degradesAt] : [])];
        for (const rate of rates) {
          const r = await measure(target, s, many, rate);
          row(nodes, SOCKETS, rate, r);
          if (nodes === 1 && degradesAt === null && (r.events.p95 > TARGET_P95_MS || r.missing > 0)) {
            degradesAt = rate;
            if (STOP_AT_FIRST_MISS) break;
          }
        }
        await many.clients.close();
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
