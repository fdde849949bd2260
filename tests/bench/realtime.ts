// npm run bench:realtime -- [--quick]
//
// Measures the live path end to end on this machine and compares it, in the same run, with
// the floor a bare `pg` LISTEN client gets. Writes by plain SQL (as an outside program would),
// delivers to real Socket.IO clients of a Pulse server running in its own process.
// Prints tables and writes bench-results/realtime.json.
import os from 'node:os';
import pg from 'pg';
import { migrateDatabase } from '../../db/migrate.js';
import { createUser, createWorld } from '../support/fixtures.js';
import { Browser } from '../support/http.js';
import { startChildServer, type ChildServer } from '../support/processes.js';
import { until } from '../support/socket.js';
import { benchDatabase, now, paced, printTable, processUsage, summarize, writeResults } from './measure.js';
import { RawDashboard } from './raw-dashboard.js';

const quick = process.argv.includes('--quick');
const SECONDS = quick ? 3 : 10;
const WRITE_SECONDS = quick ? 2 : 5;

interface Setup {
  sql: pg.Pool;
  url: string;
  server: ChildServer;
  cookie: string;
  /** Sessions of distinct managers: a user may hold at most 20 sockets per process; 500 dashboards are spread over 40 managers. */
  cookies: string[];
  customerId: number;
}

async function setup(): Promise<Setup & { teardown: () => Promise<void> }> {
  // Durable settings (fsync on): commit costs are part of what is measured.
  const db = await benchDatabase({ prefix: 'pulse-bench-' });
  const url = db.url;
  await migrateDatabase(url);
  const sql = new pg.Pool({ connectionString: url, max: 40 });
  sql.on('error', () => undefined); // connections end with the throwaway Postgres at teardown
  const world = await createWorld(sql);
  const server = await startChildServer(url);
  const browser = await Browser.signedIn(server.url, world.manager.email);
  const managers = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      createUser(sql, { email: `bench-manager-${i}@bench.dev`, role: 'manager' })
    )
  );
  // One after another, as people arrive: sign-ins in flight from one address count against it until they succeed.
  const cookies: string[] = [];
  for (const m of managers) cookies.push((await Browser.signedIn(server.url, m.email)).cookie);
  return {
    sql,
    url,
    server,
    cookie: browser.cookie,
    cookies,
    customerId: world.customerId,
    teardown: async () => {
      await server.stop();
      await sql.end();
      await db.stop();
    }
  };
}

async function connectRawDashboards(s: Setup, count: number): Promise<RawDashboard[]> {
  const dashboards: RawDashboard[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = Array.from(
      { length: Math.min(50, count - i) },
      (_, j) => new RawDashboard(s.server.url, s.cookies[(i + j) % s.cookies.length], ['order:created'])
    );
    await Promise.all(batch.map((d) => d.ready));
    dashboards.push(...batch);
  }
  return dashboards;
}

/**
 * The floor: a bare LISTEN client's commit-to-notification latency for the same kind of write
 * (a durable single-row INSERT whose trigger calls pg_notify), at the same rate.
 */
async function measureFloor(s: Setup, rate: number) {
  await s.sql.query(`
    CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, key text NOT NULL, total numeric(12, 2) NOT NULL);
    CREATE OR REPLACE FUNCTION bench_floor_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_notify('bench_floor', NEW.key); RETURN NULL; END $$;
    DROP TRIGGER IF EXISTS bench_floor_notify ON bench_floor;
    CREATE TRIGGER bench_floor_notify AFTER INSERT ON bench_floor FOR EACH ROW EXECUTE FUNCTION bench_floor_notify();`);
  const listener = new pg.Client({ connectionString: s.url });
  await listener.connect();
  await listener.query('LISTEN bench_floor');
  const sent = new Map<string, number>();
  const lat: number[] = [];
  listener.on('notification', (n) => {
    const t0 = sent.get(n.payload!);
    if (t0 !== undefined) lat.push(now() - t0);
  });
  const writer = await s.sql.connect();
  await paced(rate, SECONDS, async (i) => {
    const key = `f${i}`;
    sent.set(key, now());
    await writer.query(`INSERT INTO bench_floor (key, total) VALUES ($1, 10)`, [key]);
  });
  writer.release();
  await waitUntil(() => lat.length >= sent.size, 5000);
  await listener.end();
  return summarize(lat);
}

/** N dashboards (manager sockets) while orders are inserted by SQL at `rate` per second. */
async function measureDashboards(s: Setup, dashboards: number, rate: number) {
  const sockets = await connectRawDashboards(s, dashboards);
  const run = `r${Date.now()}`;
  const sent = new Map<string, number>();
  const lat: number[] = [];
  const seen = sockets.map(() => new Map<number, number>());
  sockets.forEach((socket, i) => {
    socket.onEvent = (_event, seq, key, at) => {
      const t0 = sent.get(key ?? '');
      if (t0 === undefined) return;
      lat.push(at - t0);
      seen[i].set(seq, (seen[i].get(seq) ?? 0) + 1);
    };
  });
  const writer = await s.sql.connect();
  const before = processUsage(s.server.pid);
  let peakRss = before.rssMiB;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, processUsage(s.server.pid).rssMiB)), 500);
  const t0 = now();
  await paced(rate, SECONDS, async (i) => {
    const key = `${run}-${i}`;
    sent.set(key, now());
    await writer.query(`INSERT INTO orders (customer_id, total, external_id) VALUES ($1, 10, $2)`, [
      s.customerId,
      key
    ]);
  });
  writer.release();
  const expected = sent.size;
  await waitUntil(() => seen.every((m) => m.size >= expected), 15_000);
  const elapsed = (now() - t0) / 1000;
  clearInterval(sampler);
  const after = processUsage(s.server.pid);
  const missing = seen.reduce((sum, m) => sum + Math.max(0, expected - m.size), 0);
  const duplicated = seen.reduce((sum, m) => sum + [...m.values()].filter((c) => c > 1).length, 0);
  for (const socket of sockets) socket.close();
  return {
    ...summarize(lat),
    deliveredPerSec: lat.length / elapsed,
    serverCpuPct: ((after.cpuMs - before.cpuMs) / (elapsed * 1000)) * 100,
    serverRssMiB: peakRss,
    missing,
    duplicated
  };
}

type Variant = 'no trigger' | 'outbox only' | 'outbox + naive notify' | 'pulse';

async function setVariant(sql: pg.Pool, variant: Variant) {
  await sql.query(`
    CREATE OR REPLACE FUNCTION bench_naive_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('bench_naive', NEW.entity_id || ':' || ((NEW.data ->> 'total')::numeric)::int);
      RETURN NULL;
    END $$;
    DROP TRIGGER IF EXISTS bench_naive ON change_log;
    CREATE TRIGGER bench_naive AFTER INSERT ON change_log FOR EACH ROW EXECUTE FUNCTION bench_naive_notify();`);
  const capture = variant === 'no trigger' ? 'DISABLE' : 'ENABLE';
  const naive = variant === 'outbox + naive notify' ? 'ENABLE' : 'DISABLE';
  const doorbell = variant === 'pulse' ? 'ENABLE' : 'DISABLE';
  await sql.query(`ALTER TABLE orders ${capture} TRIGGER orders_capture;
                   ALTER TABLE change_log ${naive} TRIGGER bench_naive;
                   ALTER TABLE change_log ${doorbell} TRIGGER change_log_doorbell;`);
}

/** Single-row updates as fast as `writers` connections can go, under one trigger variant. */
async function measureWriteCost(
  s: Setup,
  variant: Variant,
  writers: number,
  orderIds: number[],
  dashboard: RawDashboard
) {
  await setVariant(s.sql, variant);
  const sent = new Map<string, number>();
  const lat: number[] = [];
  const key = (id: number, total: number) => `${id}:${total}`;
  let listener: pg.Client | undefined;
  dashboard.onEvent =
    variant === 'pulse'
      ? (_event, _seq, k, at) => {
          const t0 = sent.get(k ?? '');
          if (t0 !== undefined) lat.push(at - t0);
        }
      : () => undefined;
  if (variant === 'outbox + naive notify') {
    listener = new pg.Client({ connectionString: s.url });
    await listener.connect();
    await listener.query('LISTEN bench_naive');
    listener.on('notification', (n) => {
      const t0 = sent.get(n.payload!);
      if (t0 !== undefined) lat.push(now() - t0);
    });
  }
  const base = Number((await s.sql.query(`SELECT max(total)::int AS m FROM orders`)).rows[0].m) + 1;
  const cpu0 = processUsage(s.server.pid).cpuMs;
  const stopAt = now() + WRITE_SECONDS * 1000;
  let commits = 0;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const client = await s.sql.connect();
      const id = orderIds[w];
      let total = base;
      try {
        while (now() < stopAt) {
          total += 1;
          sent.set(key(id, total), now());
          await client.query(`UPDATE orders SET total = $2 WHERE id = $1`, [id, total]);
          commits += 1;
        }
      } finally {
        client.release();
      }
    })
  );
  const tps = commits / WRITE_SECONDS;
  const serverCpuPct = ((processUsage(s.server.pid).cpuMs - cpu0) / (WRITE_SECONDS * 1000)) * 100;
  if (variant === 'pulse' || listener) await waitUntil(() => lat.length >= commits, 10_000);
  dashboard.onEvent = () => undefined;
  await listener?.end();
  const delivered = lat.length ? summarize(lat) : undefined;
  return { tps, p99: delivered?.p99 ?? NaN, delivered: lat.length, commits, serverCpuPct };
}

/** `id:total` of an order:updated frame, as the writers key their updates. */
function updateKey(frame: string) {
  const data = (JSON.parse(frame.slice(2))[1] as { data: { id: number; total: string } }).data;
  return `${data.id}:${Number(data.total)}`;
}

/** Waits for `check` up to `timeoutMs`; a shortfall is not an error here, it is reported (missing). */
const waitUntil = (check: () => boolean, timeoutMs: number) => until(check, timeoutMs).catch(() => undefined);

async function main() {
  const s = await setup();
  const results: Record<string, unknown> = {
    machine: { cpus: os.cpus().length, node: process.version },
    quick,
    at: new Date().toISOString()
  };
  try {
    // 1. Delivery latency against the bare LISTEN floor.
    const fanout: Record<string, string | number>[] = [];
    if (!process.argv.includes('--write-only'))
      for (const [dashboards, rate, p95Target] of [
        [100, 100, undefined],
        [500, 64, 100]
      ] as const) {
        const floor = await measureFloor(s, rate);
        const pulse = await measureDashboards(s, dashboards, rate);
        fanout.push(
          {
            scenario: `${dashboards} dashboards x ${rate}/s`,
            path: 'bare LISTEN (floor)',
            p50: floor.p50,
            p95: floor.p95,
            p99: floor.p99,
            'msg/s': '',
            'cpu%': '',
            'rss MiB': '',
            missing: '',
            dup: ''
          },
          {
            scenario: `${dashboards} dashboards x ${rate}/s`,
            path: 'Pulse -> Socket.IO',
            p50: pulse.p50,
            p95: pulse.p95,
            p99: pulse.p99,
            'msg/s': Math.round(pulse.deliveredPerSec),
            'cpu%': pulse.serverCpuPct,
            'rss MiB': pulse.serverRssMiB,
            missing: pulse.missing,
            dup: pulse.duplicated
          }
        );
        results[`dashboards_${dashboards}x${rate}`] = {
          floor,
          pulse,
          targets: {
            p50WithinFloorPlus3ms: dashboards === 100 ? pulse.p50 <= floor.p50 + 3 : undefined,
            p99WithinFloorPlus25ms: dashboards === 100 ? pulse.p99 <= floor.p99 + 25 : undefined,
            p95AtMost100ms: p95Target ? pulse.p95 <= p95Target : undefined
          }
        };
      }
    printTable('Commit-to-client latency (ms), delivered messages/s, Pulse server CPU and peak RSS', fanout);

    // 2. What the triggers cost writers, side by side.
    if (process.argv.includes('--fanout-only')) return void (await writeResults('realtime', results));
    const { rows } = await s.sql.query(
      `INSERT INTO orders (customer_id, total) SELECT $1, 1 FROM generate_series(1, 32) RETURNING id`,
      [s.customerId]
    );
    const orderIds = rows.map((r) => r.id as number);
    // The same lean client as the fanout runs, so the Pulse column's delivery is not timed through a
    // heavier client than the naive column's bare pg notification handler.
    const dashboard = new RawDashboard(s.server.url, s.cookie, ['order:updated'], updateKey);
    await dashboard.ready;
    const variants: Variant[] = ['no trigger', 'outbox only', 'outbox + naive notify', 'pulse'];
    const cost: Record<string, string | number>[] = [];
    const costJson: Record<string, unknown> = {};
    for (const writers of [1, 8, 32]) {
      const row: Record<string, string | number> = { writers };
      for (const v of variants) {
        const r = await measureWriteCost(s, v, writers, orderIds, dashboard);
        row[`${v} tx/s`] = Math.round(r.tps);
        if (v === 'outbox + naive notify' || v === 'pulse') row[`${v} p99 ms`] = r.p99;
        if (v === 'pulse') row['pulse server cpu%'] = r.serverCpuPct;
        costJson[`${writers}:${v}`] = r;
      }
      row['pulse / naive'] =
        `${(Number(row['pulse tx/s']) / Number(row['outbox + naive notify tx/s'])).toFixed(2)}x`;
      row['pulse / outbox'] = `${(Number(row['pulse tx/s']) / Number(row['outbox only tx/s'])).toFixed(2)}x`;
      // Pulse writes the outbox too, so outbox-only over naive is the most Pulse / naive can be here.
      row['ceiling (outbox / naive)'] =
        `${(Number(row['outbox only tx/s']) / Number(row['outbox + naive notify tx/s'])).toFixed(2)}x`;
      cost.push(row);
    }
    await setVariant(s.sql, 'pulse');
    dashboard.close();
    printTable(
      'Write cost: single-row UPDATE commits per second by trigger variant (delivery p99 where delivered)',
      cost
    );
    results.writeCost = costJson;
    results.writeCostTable = cost;

    await writeResults('realtime', results);
  } finally {
    await s.teardown();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : err}\n`);
    process.exit(1);
  }
);
