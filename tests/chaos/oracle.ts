// The judge of a chaos run, independent of the hub: it reads change_log itself and applies the
// routing rules (server/realtime/routing.ts, the rooms each change may reach) to decide which
// changes each client was allowed to see after its first `live:ready`, then compares with what
// the client's socket actually received.
import type pg from 'pg';
import { isBefore } from '#shared/stream-position.js';
import type { ChangeRow } from '../../server/data/change-row.js';
import { route, routeAvailability } from '../../server/realtime/routing.js';
import type { Browser } from '../support/http.js';
import type { ChaosClient, ClientKind } from './clients.js';

export interface Verdict {
  kind: ClientKind;
  clients: number;
  allowed: number;
  received: number;
  missing: number;
  /** Resent changes the client dropped as already applied (by seq, as the browser does). */
  redelivered: number;
  /** Changes applied twice: a resend older than the client's memory of applied seqs. */
  duplicated: number;
  outOfOrder: number;
  /** Received although none of the client's rooms may see it: a leak. */
  forbidden: number;
  resyncs: number;
  /** Entities whose last applied version is older than a fresh REST load. */
  stale: number;
  maxLagMs: number;
  p99LagMs: number;
}

interface LoggedChange {
  txid: bigint;
  topic: string;
  rooms: Set<string>;
}

/** Every change of the log with the rooms it may reach. */
export async function readLog(pool: pg.Pool): Promise<Map<number, LoggedChange>> {
  const { rows } = await pool.query<{
    id: string;
    txid: string;
    topic: string;
    op: ChangeRow['op'];
    entity_id: string | null;
    customer_id: number | null;
    team_id: number | null;
    data: Record<string, unknown>;
    old: Record<string, unknown> | null;
    created_at: Date;
  }>(
    `SELECT id, txid::text, topic, op, entity_id, customer_id, team_id, data, old, created_at FROM change_log ORDER BY id`
  );
  const log = new Map<number, LoggedChange>();
  for (const r of rows) {
    const row: ChangeRow = {
      id: Number(r.id),
      topic: r.topic,
      op: r.op,
      entityId: r.entity_id === null ? null : Number(r.entity_id),
      customerId: r.customer_id,
      teamId: r.team_id,
      data: r.data,
      old: r.old,
      createdAt: r.created_at.toISOString()
    };
    const targets = new Set<string>();
    // As the hub decides: access changes carry only the availability they show; a change the
    // rules cannot route has no audience (the hub logs and skips it).
    try {
      const out =
        row.topic === 'user' ? routeAvailability(row, '') : row.topic === 'session' ? null : route(row, '');
      for (const room of out?.rooms ?? []) targets.add(room);
    } catch {
      targets.clear();
    }
    log.set(row.id, { txid: BigInt(r.txid), topic: r.topic, rooms: targets });
  }
  return log;
}

/** The seqs `client` may see: after its first horizon, routed to one of its rooms. */
export function allowedFor(client: ChaosClient, log: Map<number, LoggedChange>): Set<number> {
  const allowed = new Set<number>();
  const from = client.firstHorizon;
  if (!from) return allowed;
  const mine = client.rooms;
  for (const [seq, change] of log) {
    if (isBefore(change.txid, from)) continue;
    for (const room of change.rooms)
      if (mine.has(room)) {
        allowed.add(seq);
        break;
      }
  }
  return allowed;
}

function percentile(sorted: number[], p: number) {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/**
 * A fresh REST load of the orders and tickets a client applied events for (up to `sample` of
 * each), as that client's user: how many are newer than the last version the client applied.
 */
async function staleEntities(client: ChaosClient, browser: Browser, sample: number): Promise<number> {
  const last = new Map<string, number>();
  for (const f of client.frames) {
    if (f.version === null || !f.entity) continue;
    if (!f.entity.startsWith('order:') && !f.entity.startsWith('ticket:')) continue;
    last.set(f.entity, Math.max(last.get(f.entity) ?? 0, f.version));
  }
  let stale = 0;
  const byKind = { order: 0, ticket: 0 };
  for (const [entity, version] of last) {
    const [kind, id] = entity.split(':') as ['order' | 'ticket', string];
    if (byKind[kind]++ >= sample) continue;
    const res = await browser.request('GET', `/api/${kind}s/${id}`);
    if (res.status !== 200) continue;
    const body = res.body as { order?: { version: number }; ticket?: { version: number } };
    const now = body[kind]?.version;
    if (typeof now === 'number' && now > version) stale++;
  }
  return stale;
}

/**
 * Judges every client; the rows of the table, one per kind. `settled` is the log every client
 * was waited on to receive (what it misses of it is missing); `frozen` is how many frames each
 * client had received when `final` was read after it, so every frame judged was committed, and in
 * `final`, unless it is a leak (background work goes on committing while the judge runs).
 */
export async function judge(
  clients: ChaosClient[],
  logs: { settled: Map<number, LoggedChange>; final: Map<number, LoggedChange> },
  frozen: Map<ChaosClient, number>,
  browsers: Map<ChaosClient, Browser>
): Promise<{ verdicts: Verdict[]; failures: string[] }> {
  const { settled: log, final } = logs;
  const byKind = new Map<ClientKind, Verdict>();
  const lags = new Map<ClientKind, number[]>();
  const failures: string[] = [];
  for (const client of clients) {
    const v =
      byKind.get(client.kind) ??
      ({
        kind: client.kind,
        clients: 0,
        allowed: 0,
        received: 0,
        missing: 0,
        redelivered: 0,
        duplicated: 0,
        outOfOrder: 0,
        forbidden: 0,
        resyncs: 0,
        stale: 0,
        maxLagMs: 0,
        p99LagMs: 0
      } satisfies Verdict);
    byKind.set(client.kind, v);
    const allowed = allowedFor(client, log);
    const seen = new Set<number>();
    const lastSeqOf = new Map<string, number>();
    const myLags = lags.get(client.kind) ?? [];
    lags.set(client.kind, myLags);
    let duplicated = 0;
    let redelivered = 0;
    let outOfOrder = 0;
    let forbidden = 0;
    const leaks: string[] = [];
    for (const f of client.frames.slice(0, frozen.get(client))) {
      if (!f.applied) {
        redelivered++;
        continue;
      }
      if (seen.has(f.seq)) {
        duplicated++;
        continue;
      }
      seen.add(f.seq);
      const change = final.get(f.seq);
      if (!change || ![...change.rooms].some((r) => client.rooms.has(r))) {
        forbidden++;
        if (leaks.length < 5)
          leaks.push(
            change
              ? `seq ${f.seq} (${change.topic} to ${[...change.rooms].join(' ') || 'no room'})`
              : `seq ${f.seq} (${f.event}, not in change_log)`
          );
      }
      if (f.entity) {
        const before = lastSeqOf.get(f.entity) ?? 0;
        if (f.seq < before) outOfOrder++;
        lastSeqOf.set(f.entity, Math.max(before, f.seq));
      }
      myLags.push(f.arrived - Date.parse(f.at));
    }
    // A resync tells the client to reload those topics (all of them, after a retention gap): what
    // it did not receive of them is on screen through the reload.
    const reloaded = (topic: string) =>
      client.resyncs.some((r) => r.topics.length === 0 || r.topics.includes(topic));
    const missing = [...allowed].filter((s) => !seen.has(s) && !reloaded(log.get(s)!.topic));
    v.clients++;
    v.allowed += allowed.size;
    v.received += seen.size;
    v.missing += missing.length;
    v.duplicated += duplicated;
    v.redelivered += redelivered;
    v.outOfOrder += outOfOrder;
    v.forbidden += forbidden;
    v.resyncs += client.resyncs.length;
    v.stale += await staleEntities(client, browsers.get(client)!, 10);
    if (missing.length > 0)
      failures.push(
        `client ${client.id} (${client.kind}) missed ${missing.length}, e.g. seq ${missing.slice(0, 5).join(', ')}`
      );
    if (duplicated > 0)
      failures.push(`client ${client.id} (${client.kind}) applied ${duplicated} changes twice`);
    if (outOfOrder > 0)
      failures.push(`client ${client.id} (${client.kind}) applied ${outOfOrder} changes out of order`);
    if (forbidden > 0)
      failures.push(
        `client ${client.id} (${client.kind}) received ${forbidden} changes it may not see, e.g. ${leaks.join(', ')}`
      );
  }
  for (const v of byKind.values()) {
    const sorted = (lags.get(v.kind) ?? []).sort((a, b) => a - b);
    v.maxLagMs = sorted.at(-1) ?? 0;
    v.p99LagMs = percentile(sorted, 0.99);
    if (v.stale > 0)
      failures.push(`${v.stale} ${v.kind} entities were older on screen than a fresh REST load`);
  }
  return { verdicts: [...byKind.values()], failures };
}

/** The database's own rules after the storm: ledgers, stock, balances. */
export async function invariants(pool: pg.Pool): Promise<string[]> {
  const checks: [string, string][] = [
    [
      'loyalty balance = sum of its ledger, never negative',
      `SELECT count(*)::int AS n FROM loyalty_accounts a
        WHERE a.balance < 0 OR a.balance <> (SELECT coalesce(sum(points), 0) FROM loyalty_ledger l WHERE l.account_id = a.id)`
    ],
    [
      'stock = sum of its movements, never negative',
      `SELECT count(*)::int AS n FROM products p
        WHERE p.stock < 0 OR p.stock <> (SELECT coalesce(sum(quantity), 0) FROM stock_movements m WHERE m.product_id = p.id)`
    ],
    [
      'an earn is reversed at most once',
      `SELECT count(*)::int AS n FROM (SELECT reverses_id FROM loyalty_ledger WHERE reverses_id IS NOT NULL
        GROUP BY reverses_id HAVING count(*) > 1) x`
    ]
  ];
  const broken: string[] = [];
  for (const [name, sql] of checks) {
    const { rows } = await pool.query<{ n: number }>(sql);
    if (rows[0].n > 0) broken.push(`${name}: ${rows[0].n} rows break it`);
  }
  return broken;
}
