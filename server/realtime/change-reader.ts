import type pg from 'pg';
import { formatPosition, parsePosition, type StreamPosition } from '#shared/stream-position.js';
import type { ChangeRow } from '../data/change-row.js';

export type { ChangeRow };

export interface ReadResult {
  rows: ChangeRow[];
  /**
   * The stream position before this read: every change it covers was handed on before. The
   * resume cursor the rows of this read carry to clients.
   */
  horizon: string;
  /**
   * Retention deleted rows this reader had not read (it was cut off from the database for longer
   * than the prune fence): whoever follows this reader must reload.
   */
  gap?: boolean;
}

function parseSnapshot(text: string): StreamPosition {
  const position = parsePosition(text);
  if (!position) throw new Error(`not a snapshot: ${text}`);
  return position;
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
  private cursor: StreamPosition | null = null;
  /** A large read in progress: its batches go out before the cursor moves past them. */
  private large: Promise<number> | null = null;

  constructor(private readonly pool: pg.Pool) {}

  /** The stream position of everything handed on so far. */
  get position(): StreamPosition | null {
    return this.cursor;
  }

  /** The same, as clients receive it. */
  get horizon(): string {
    return this.cursor ? formatPosition(this.cursor) : '0:0:';
  }

  /**
   * Resolves when no large read is in progress. A large read hands on its batches before its cursor
   * moves, so a replay that reads up to the cursor in the middle of one would miss the batches sent
   * before its socket was held: replays wait for this, then read up to where that read ended.
   */
  async settled(): Promise<void> {
    while (this.large) await this.large.catch(() => undefined);
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
    const horizon = formatPosition(since);
    const params = [since.xmax.toString(), since.xip.map(String)];
    // A named (prepared) statement: planning costs more than running it on an idle log.
    const { rows } = await this.pool.query<{ snapshot: string; rows: RawRow[] | null; purged: string }>({
      name: 'pulse-change-read',
      text: `SELECT pg_current_snapshot()::text AS snapshot,
                    (SELECT purged_through::text FROM change_log_retention) AS purged,
                    (SELECT json_agg(c ORDER BY c.id) FROM (SELECT ${COLUMNS} FROM change_log WHERE ${NEW_SINCE} LIMIT $3) c) AS rows`,
      values: [...params, FAST_LIMIT + 1]
    });
    const found = rows[0];
    const gap = BigInt(found.purged ?? '0') >= since.xmin && since.xmin > 0n;
    if ((found.rows?.length ?? 0) > FAST_LIMIT) {
      const large = (this.large = this.readLarge(params, horizon, gap, onRows));
      try {
        return await large;
      } finally {
        this.large = null;
      }
    }
    const changes = (found.rows ?? []).map(toChangeRow);
    this.cursor = parseSnapshot(found.snapshot);
    if (changes.length > 0 || gap) onRows({ rows: changes, horizon, ...(gap ? { gap } : {}) });
    return changes.length;
  }

  /** A backlog larger than one statement should carry: stream it through a cursor, one snapshot. */
  private async readLarge(
    params: unknown[],
    horizon: string,
    gap: boolean,
    onRows: (result: ReadResult) => void
  ): Promise<number> {
    const client = await this.pool.connect();
    let total = 0;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const { rows } = await client.query<{ snapshot: string }>(SNAPSHOT_SQL);
      await client.query('SET LOCAL cursor_tuple_fraction = 1');
      await client.query(
        `DECLARE change_batch NO SCROLL CURSOR FOR SELECT ${COLUMNS} FROM change_log WHERE ${NEW_SINCE} ORDER BY id`,
        params
      );
      for (;;) {
        const batch = await client.query<RawRow>(`FETCH ${CURSOR_BATCH} FROM change_batch`);
        if (batch.rows.length === 0) break;
        onRows({ rows: batch.rows.map(toChangeRow), horizon, ...(gap && total === 0 ? { gap } : {}) });
        total += batch.rows.length;
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
    createdAt:
      r.created_at instanceof Date ? r.created_at.toISOString() : new Date(r.created_at).toISOString()
  };
}

/**
 * What a (re)connecting client missed: every row that became visible after `from` and was already
 * visible at `upTo` (the reader's cursor: what comes after it, the live path delivers). A replay
 * and the live stream therefore meet exactly, with no gap and no overlap.
 */
export async function readBetween(pool: pg.Pool, from: StreamPosition, upTo: StreamPosition, limit: number) {
  const { rows } = await pool.query<{ purged: boolean; rows: RawRow[] | null }>({
    name: 'pulse-change-replay',
    text: `SELECT (SELECT purged_through FROM change_log_retention) >= $1::xid8 AS purged,
                  (SELECT json_agg(c ORDER BY c.id) FROM (
                     SELECT ${COLUMNS} FROM change_log
                      WHERE (txid >= $2::xid8 OR txid = ANY($3::xid8[]))
                        AND txid < $4::xid8 AND txid <> ALL($5::xid8[])
                      LIMIT $6) c) AS rows`,
    values: [
      from.xmin.toString(),
      from.xmax.toString(),
      from.xip.map(String),
      upTo.xmax.toString(),
      upTo.xip.map(String),
      limit + 1
    ]
  });
  const r = rows[0];
  const found = r.rows ?? [];
  return {
    purged: r.purged && from.xmin > 0n,
    tooMany: found.length > limit,
    rows: found.slice(0, limit).map(toChangeRow)
  };
}

/** How old a prune fence must be before rows below it may go: every running reader has passed it by then. */
const FENCE_AGE_MINUTES = 5;

/**
 * Deletes change_log rows older than the retention window whose transaction ended before a fence
 * at least FENCE_AGE_MINUTES old, records how far that reached, and moves the fence on. Insert
 * time alone is not enough: a transaction open longer than the window commits rows that are
 * already "old", and they must still be read.
 */
export async function pruneChangeLog(pool: pg.Pool, retentionHours: number): Promise<number> {
  const { rows } = await pool.query<{ deleted: number }>(
    `WITH fence AS (
       SELECT fence FROM change_log_retention WHERE fence_at <= now() - make_interval(mins => $2)
     ), gone AS (
       DELETE FROM change_log
        WHERE created_at < now() - make_interval(hours => $1) AND txid < (SELECT fence FROM fence)
        RETURNING txid
     ), mark AS (
       UPDATE change_log_retention
          SET purged_through = greatest(purged_through, coalesce((SELECT txid FROM gone ORDER BY txid DESC LIMIT 1), purged_through)),
              fence = CASE WHEN EXISTS (SELECT 1 FROM fence) THEN pg_snapshot_xmin(pg_current_snapshot()) ELSE fence END,
              fence_at = CASE WHEN EXISTS (SELECT 1 FROM fence) THEN now() ELSE fence_at END
     )
     SELECT count(*)::int AS deleted FROM gone`,
    [retentionHours, FENCE_AGE_MINUTES]
  );
  return rows[0].deleted;
}
