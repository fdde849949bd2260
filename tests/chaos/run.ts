// `npm run chaos [-- --seconds N --clients N --rate N --json FILE]`: an operator's bad day, for
// minutes. Two Pulse nodes behind HAProxy on one Postgres, screens of every kind connected through
// the balancer, the shop writing by SQL and a manager through the API, while the listener's
// connection is killed, Postgres stops, a node dies, sockets drop and a transaction stays open.
// Then an oracle that reads change_log itself says, for every client, whether it saw exactly what
// it was allowed to see. Exits non-zero on any loss, duplicate, reorder, leak, broken invariant
// or 500. docs/reliability.md lists the faults and what held.
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { migrateDatabase } from '../../db/migrate.js';
import { DEMO_PASSWORD } from '../../db/seed/demo-users.js';
import { seedDemoData } from '../../db/seed/index.js';
import { Browser } from '../support/http.js';
import { ChaosClient, type ClientKind } from './clients.js';
import { Balancer, findHaproxy, freePort, PulseNode, startChaosPostgres } from './cluster.js';
import { allowedFor, invariants, judge, readLog } from './oracle.js';
import { apiWriter, longTransaction, sqlWriter } from './writers.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '120' },
    clients: { type: 'string', default: '40' },
    rate: { type: 'string', default: '20' },
    json: { type: 'string' }
  }
});
const SECONDS = Number(args.seconds);
const CLIENTS = Number(args.clients);
const RATE = Number(args.rate);
if (!(SECONDS >= 30) || !(CLIENTS >= 3) || !(RATE > 0)) {
  process.stderr.write('usage: npm run chaos -- [--seconds N>=30] [--clients N>=3] [--rate writes/s]\n');
  process.exit(2);
}

const started = Date.now();
const clock = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s`;
const say = (msg: string) => process.stdout.write(`${clock()}  ${msg}\n`);

interface FaultRecord {
  at: number;
  fault: string;
  detail: string;
}
const faults: FaultRecord[] = [];
const fault = (name: string, detail: string) => {
  faults.push({ at: Date.now(), fault: name, detail });
  say(`fault: ${name}: ${detail}`);
};
/** While Postgres is away, a 503 is Pulse's honest answer; these windows excuse it. */
const outages: { from: number; to: number }[] = [];

async function main() {
  const haproxy = findHaproxy(say);
  const postgres = await startChaosPostgres(say);
  const dir = os.tmpdir();
  const pool = new pg.Pool({ connectionString: postgres.url, max: 6, application_name: 'pulse-chaos' });
  // Postgres goes away on purpose: a connection dying, idle or checked out, is expected here.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const nodes: PulseNode[] = [];
  let balancer: Balancer | undefined;
  const clients: ChaosClient[] = [];
  try {
    say('migrating and seeding a small demo shop...');
    await migrateDatabase(postgres.url);
    await seedDemoData(postgres.url, { customers: 400 });

    for (const name of ['node-a', 'node-b']) {
      const port = await freePort();
      nodes.push(new PulseNode(name, port, postgres.url, path.join(dir, `pulse-chaos-${name}-${port}.log`)));
    }
    await Promise.all(nodes.map((n) => n.start()));
    balancer = new Balancer(haproxy, await freePort(), nodes, dir);
    await balancer.start();
    say(`two nodes (${nodes.map((n) => n.port).join(', ')}) behind HAProxy at ${balancer.url}`);

    const browsers = await connectClients(pool, balancer.url, clients);
    say(`${clients.length} clients ready (${kindsOf(clients)})`);

    // Writers and faults, for SECONDS.
    const t0 = Date.now();
    const stopAt = t0 + SECONDS * 1000;
    const stop = () => Date.now() >= stopAt;
    const manager = await Browser.signedIn(balancer.url, 'manager@pulse.demo', DEMO_PASSWORD);
    const sql = await sqlWriter(pool, RATE, stop);
    const api = apiWriter(manager, Math.max(1, RATE / 10), stop);
    const at = (seconds: number, action: () => Promise<void>) =>
      delay(Math.max(0, t0 + seconds * 1000 - Date.now())).then(action);
    const schedule: Promise<void>[] = [];
    const hold = Math.min(30, SECONDS * 0.25);
    schedule.push(
      at(5, async () => {
        fault('open transaction', `an order written and held uncommitted for ${hold} s`);
        const r = await longTransaction(pool, hold * 1000);
        say(`open transaction ${r.committed ? 'committed' : 'failed'} after ${hold} s`);
      })
    );
    for (let t = 15; t < SECONDS - 10; t += 30)
      schedule.push(
        at(t, async () => {
          const { rowCount } = await pool
            .query(
              `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pulse-listener'`
            )
            .catch(() => ({ rowCount: 0 }));
          fault('listener killed', `pg_terminate_backend on ${rowCount} LISTEN connections`);
        })
      );
    for (let t = 10; t < SECONDS - 5; t += 20)
      schedule.push(
        at(t, async () => {
          const victims = clients.filter((_, i) => (i + t) % 5 === 0);
          for (const c of victims) c.drop();
          fault(
            'sockets dropped',
            `${victims.length} of ${clients.length} transports closed under the client`
          );
        })
      );
    if (postgres.canStop)
      schedule.push(
        at(SECONDS * 0.45, async () => {
          const from = Date.now();
          fault('postgres stopped', 'for 10 s');
          await postgres.stop();
          await delay(10_000);
          await postgres.start();
          outages.push({ from, to: Date.now() + 5000 });
          fault('postgres started', 'again, same data and port');
        })
      );
    else say('Postgres is not ours (DATABASE_URL): the stop/start fault is skipped');
    schedule.push(
      at(SECONDS * 0.7, async () => {
        const victim = nodes[1];
        fault('node killed', `${victim.name} (pid ${victim.pid}) SIGKILL`);
        victim.kill();
        await delay(3000);
        await victim.start();
        fault('node restarted', `${victim.name} on port ${victim.port}`);
      })
    );

    await Promise.all([sql.done, api.done, ...schedule]);
    const statuses = [...api.stats.statuses].map(([s, n]) => `${n} x ${s || 'no answer'}`).join(', ');
    say(
      `writers stopped: sql ${sql.stats.ok} ok / ${sql.stats.failed} failed, api ${api.stats.ok} ok / ${api.stats.failed} failed${statuses ? ` (${statuses})` : ''}`
    );

    // Quiet: every client connected and resumed, then given time to receive what it may see.
    await Promise.all(clients.map((c) => c.ready(60_000)));
    const deadline = Date.now() + 30_000;
    let log = await readLog(pool);
    while (Date.now() < deadline) {
      const behind = clients.filter((c) => [...allowedFor(c, log)].some((s) => !c.applied.has(s)));
      if (behind.length === 0) break;
      await delay(500);
      log = await readLog(pool);
    }
    say(`settled; judging ${log.size} changes against ${clients.length} clients`);
    // Background work (segment reconciles, rollups) commits on: what the clients hold now was all
    // committed before the log is read again.
    const frozen = new Map(clients.map((c) => [c, c.frames.length]));
    const final = await readLog(pool);

    const { verdicts, failures } = await judge(clients, { settled: log, final }, frozen, browsers);
    for (const broken of await invariants(pool)) failures.push(`invariant: ${broken}`);
    const serverErrors = await fiveHundreds(nodes);
    failures.push(...serverErrors.failures);

    printTable(verdicts);
    say(`faults injected: ${faults.length}; 503s while Postgres was down: ${serverErrors.excused}`);
    if (args.json)
      await writeFile(
        args.json,
        JSON.stringify(
          { seconds: SECONDS, clients: CLIENTS, rate: RATE, verdicts, faults, failures },
          null,
          2
        )
      );
    if (failures.length) {
      for (const f of failures) process.stdout.write(`FAIL ${f}\n`);
      process.exitCode = 1;
    } else {
      process.stdout.write(
        `chaos: ${clients.length} clients, ${log.size} changes, 0 missing, 0 duplicated, 0 out of order\n`
      );
    }
  } finally {
    for (const c of clients) c.close();
    balancer?.stop();
    await Promise.all(nodes.map((n) => n.stop()));
    await pool.end().catch(() => undefined);
    await postgres.close();
  }
}

function kindsOf(clients: ChaosClient[]) {
  const counts = new Map<ClientKind, number>();
  for (const c of clients) counts.set(c.kind, (counts.get(c.kind) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${n} ${k}s`).join(', ');
}

/**
 * Signs in and connects the run's screens, spread over the demo's users so no user passes the
 * per-user socket cap: agents on their team's queue and tickets, managers on the wallboard and the
 * tables, and customer pages watched by both.
 */
async function connectClients(pool: pg.Pool, url: string, clients: ChaosClient[]) {
  const { rows: users } = await pool.query<{
    id: number;
    email: string;
    role: string;
    team_id: number | null;
  }>(`SELECT id, email, role::text, team_id FROM users WHERE active ORDER BY id`);
  const agents = users.filter((u) => u.role === 'agent' && u.team_id !== null);
  const managers = users.filter((u) => u.role !== 'agent');
  const { rows: customers } = await pool.query<{ id: number }>(
    `SELECT customer_id AS id FROM orders GROUP BY customer_id ORDER BY max(order_date) DESC LIMIT 60`
  );
  const browsers = new Map<ChaosClient, Browser>();
  for (let i = 0; i < CLIENTS; i++) {
    const kind: ClientKind = i % 3 === 0 ? 'manager' : i % 3 === 1 ? 'agent' : 'customer watcher';
    const user = kind === 'agent' ? agents[i % agents.length] : managers[i % managers.length];
    const browser = await Browser.signedIn(url, user.email, DEMO_PASSWORD);
    let tickets: number[] = [];
    if (kind === 'agent') {
      const { rows } = await pool.query<{ id: number }>(
        `SELECT id FROM tickets WHERE team_id = $1 AND status IN ('new', 'open', 'pending') ORDER BY id DESC LIMIT 3`,
        [user.team_id]
      );
      tickets = rows.map((r) => r.id);
    }
    const client = new ChaosClient(
      i,
      kind,
      { userId: user.id, teamId: user.team_id, manager: user.role !== 'agent', cookie: browser.cookie },
      {
        tickets,
        customers:
          kind === 'customer watcher'
            ? customers.slice((i * 3) % 57, ((i * 3) % 57) + 3).map((c) => c.id)
            : [],
        lists: kind === 'manager' ? ['orders', 'customers'] : kind === 'agent' ? ['orders'] : [],
        wallboard: kind === 'manager'
      }
    );
    client.connect(url);
    clients.push(client);
    browsers.set(client, browser);
  }
  await Promise.all(clients.map((c) => c.ready()));
  return browsers;
}

/** 500s (and 503s outside a Postgres outage) in the nodes' request logs. */
async function fiveHundreds(nodes: PulseNode[]) {
  const failures: string[] = [];
  let excused = 0;
  for (const node of nodes) {
    for (const line of await node.logLines()) {
      if (line.msg !== 'request' || typeof line.status !== 'number' || line.status < 500) continue;
      const time = Number(line.time);
      if (line.status === 503 && outages.some((o) => time >= o.from && time <= o.to)) {
        excused++;
        continue;
      }
      failures.push(`${node.name}: ${line.method} ${line.path} answered ${line.status}`);
    }
  }
  return { failures, excused };
}

function printTable(verdicts: Awaited<ReturnType<typeof judge>>['verdicts']) {
  const head = [
    'client kind',
    'clients',
    'allowed',
    'received',
    'missing',
    'resent, dropped',
    'duplicated',
    'out of order',
    'leaked',
    'resyncs',
    'stale',
    'max lag ms',
    'p99 lag ms'
  ];
  const rows = verdicts.map((v) => [
    v.kind,
    v.clients,
    v.allowed,
    v.received,
    v.missing,
    v.redelivered,
    v.duplicated,
    v.outOfOrder,
    v.forbidden,
    v.resyncs,
    v.stale,
    v.maxLagMs,
    v.p99LagMs
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells: (string | number)[]) =>
    cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  process.stdout.write(`\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const r of rows) process.stdout.write(`${line(r)}\n`);
  process.stdout.write('\n');
}

main().catch((err) => {
  process.stderr.write(`chaos run failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
