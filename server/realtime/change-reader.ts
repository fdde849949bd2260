import type pg from 'pg';

/** One change_log row as the reader hands it on. */
export interface ChangeRow {
  id: number;
  topic: string;
  op: 'insert' | 'update' | 'delete';
  entityId: number | null;
  customerId: number | null;
  teamId: number | null;
  data: Record<string, unknown>;
  old: Record<string, unknown> | null;
  createdAt: string;
}

/**
 * A Postgres snapshot (`xmin:xmax:xip,...`): which transactions had committed when it was taken.
 * A transaction is visible in it when its xid is below xmin, or below xmax and not in xip.
 */
export interface Snapshot {
  xmin: bigint;
  xmax: bigint;
  xip: bigint[];
}

export function parseSnapshot(text: string): Snapshot {
  const [xmin, xmax, xip] = text.split(':');
  return { xmin: BigInt(xmin), xmax: BigInt(xmax), xip: xip ? xip.split(',').map(BigInt) : [] };
}

export interface ReadResult {
  rows: ChangeRow[];
  /**
   * Every change of a transaction below this xid was handed on before this read: the resume
   * cursor the rows of this read carry to clients.
   */
  horizon: string;
}

const COLUMNS = `id, topic, op, entity_id, customer_id, team_id, data, old, created_at`;
const SNAPSHOT_SQL = `SELECT pg_current_snapshot()::text AS snapshot`;

// New since the cursor's snapshot: written by a transaction that was still running then
// (in xip) or started after it (at or above xmax). Only committed rows are visible, so a
// transaction that commits late is read when it commits, whatever its ids.
const NEW_SINCE = `txid >= $1::xid8 OR txid = ANY($2::xid8[])`;

/** How many rows the one-statement fast path reads; a bigger backlog is streamed by a cursor. */
const FAST_LIMIT = 2000;
const CURSOR_BATCH = 2000;

/**
 * The one reading path for live delivery and catch-up.
 *
 * Bigserial ids are taken in one order and committed in another, so "id > last id" would skip a
 * row whose transaction commits after a later id's. The cursor is instead the snapshot taken in
 * the same statement as the read: the next read returns exactly the rows that became visible since,
 * so nothing is skipped, nothing is handed on twice, and an open (long) transaction holds back only
 * its own rows.
 */
export class ChangeReader {
  private cursor: Snapshot | null = null;

  constructor(private readonly pool: pg.Pool) {}

  /** The resume horizon of everything handed on so far. */
  get horizon(): string {
    return (this.cursor?.xmin ?? 0n).toString();
  }

  /** Starts from the database's present: earlier changes are the clients' to resume, not ours. */
  async start(): Promise<void> {
    const { rows } = await this.pool.query<{ snapshot: string }>(SNAPSHOT_SQL);
    this.cursor = parseSnapshot(rows[0].snapshot);
  }

  /** Reads what became visible since the last read, in id order, and advances the cursor (after `start()`). */
  async read(onRows: (result: ReadResult) => void): Promise<number> {
    const since = this.cursor;
    if (!since) throw new Error('ChangeReader.read() before start()');
    const horizon = since.xmin.toString();
    const params = [since.xmax.toString(), since.xip.map(String)];
    // A named (prepared) statement: planning costs more than running it on an idle log.
    const { rows } = await this.pool.query<{ snapshot: string; rows: RawRow[] | null }>({
      name: 'pulse-change-read',
      text: `SELECT pg_current_snapshot()::text AS snapshot,
                    (SELECT json_agg(c ORDER BY c.id) FROM (SELECT ${COLUMNS} FROM change_log WHERE ${NEW_SINCE} LIMIT $3) c) AS rows`,
      values: [...params, FAST_LIMIT + 1]
    });
    const found = rows[0];
    if ((found.rows?.length ?? 0) > FAST_LIMIT) return this.readLarge(params, horizon, onRows);
    const changes = (found.rows ?? []).map(toChangeRow);
    this.cursor = parseSnapshot(found.snapshot);
    if (changes.length > 0) onRows({ rows: changes, horizon });
    return changes.length;
  }

  /** A backlog larger than one statement should carry: stream it through a cursor, one snapshot. */
  private async readLarge(params: unknown[], horizon: string, onRows: (result: ReadResult) => void): Promise<number> {
    const client = await this.pool.connect();
    let total = 0;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const { rows } = await client.query<{ snapshot: string }>(SNAPSHOT_SQL);
      await client.query('SET LOCAL cursor_tuple_fraction = 1');
      await client.query(`DECLARE change_batch NO SCROLL CURSOR FOR SELECT ${COLUMNS} FROM change_log WHERE ${NEW_SINCE} ORDER BY id`, params);
      for (;;) {
        const batch = await client.query<RawRow>(`FETCH ${CURSOR_BATCH} FROM change_batch`);
        if (batch.rows.length === 0) break;
        total += batch.rows.length;
        onRows({ rows: batch.rows.map(toChangeRow), horizon });
      }
      await client.query('COMMIT');
      this.cursor = parseSnapshot(rows[0].snapshot);
      return total;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}

interface RawRow {
  id: string | number;
  topic: string;
  op: ChangeRow['op'];
  entity_id: string | number | null;
  customer_id: number | null;
  team_id: number | null;
  data: Record<string, unknown>;
  old: Record<string, unknown> | null;
  created_at: string | Date;
}

function toChangeRow(r: RawRow): ChangeRow {
  return {
    id: Number(r.id),
    topic: r.topic,
    op: r.op,
    entityId: r.entity_id === null ? null : Number(r.entity_id),
    customerId: r.customer_id,
    teamId: r.team_id,
    data: r.data,
    old: r.old,
    createdAt: r.created_at instanceof Date ? r.created_at.toISOString() : new Date(r.created_at).toISOString()
  };
}

/** Changes a reconnecting client may have missed: every visible row of a transaction at or above `horizon`. */
export async function readSince(pool: pg.Pool, horizon: string, limit: number) {
  const { rows } = await pool.query<{ purged: boolean; rows: RawRow[] | null }>(
    `SELECT (SELECT purged_through FROM change_log_retention) >= $1::xid8 AS purged,
            (SELECT json_agg(c ORDER BY c.id) FROM (SELECT ${COLUMNS} FROM change_log WHERE txid >= $1::xid8 LIMIT $2) c) AS rows`,
    [horizon, limit + 1]
  );
  const r = rows[0];
  const found = r.rows ?? [];
  return { purged: r.purged, tooMany: found.length > limit, rows: found.slice(0, limit).map(toChangeRow) };
}

/** Deletes change_log rows older than the retention window and records how far that reached. */
export async function pruneChangeLog(pool: pg.Pool, retentionHours: number): Promise<number> {
  const { rows } = await pool.query<{ deleted: number }>(
    `WITH gone AS (
       DELETE FROM change_log WHERE created_at < now() - make_interval(hours => $1) RETURNING txid
     ), mark AS (
       UPDATE change_log_retention
          SET purged_through = greatest(purged_through, (SELECT txid FROM gone ORDER BY txid DESC LIMIT 1))
        WHERE EXISTS (SELECT 1 FROM gone)
     )
     SELECT count(*)::int AS deleted FROM gone`,
    [retentionHours]
  );
  return rows[0].deleted;
}
