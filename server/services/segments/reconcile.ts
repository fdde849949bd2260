import type { SegmentGroup } from '#shared/schemas/segments.js';
import type { Db } from '../../data/db.js';
import type { Logger } from 'pino';
import { COMPILER_VERSION } from './compile.js';
import { rollRecentWindows, untilNextRoll } from './recent.js';
import { BASE, compile, fillSegment } from './segments.js';

// The periodic reconcile: what the commit-time evaluation cannot see. Rules that drift with time
// ("first order within 30 days" stops holding without any write), RFM cut-offs that move as
// everyone buys, support settings (the VIP rule), attribute definitions. It recomputes each
// segment from SQL, and hands the customers whose membership differs to the same database
// function the commits use (segment_evaluate_one: it locks them and evaluates afresh), so the
// differences are emitted as segment:entered / segment:left exactly like any other change.

/** Customers re-evaluated per transaction: short transactions, short row locks. */
const RECONCILE_BATCH = 1000;

export interface ReconcileResult {
  segmentId: number;
  /** Customers whose membership the reconcile corrected. */
  corrected: number;
  members: number;
}

/** Compiles segments compiled by an older server (or never: the built-ins after the migration). */
export async function compilePending(db: Db): Promise<void> {
  const pending = await db.query<{ id: number; rule: SegmentGroup; member_count: number | null }>(
    `SELECT id, rule, member_count FROM segments
      WHERE compiled_where IS NULL OR compiled_with < $1 ORDER BY id`,
    [COMPILER_VERSION]
  );
  for (const seg of pending) {
    await db.transaction(async (t) => {
      const { where, params } = await compile(t, seg.rule, 'row');
      await t.query(
        `UPDATE segments SET compiled_where = $2, compiled_params = $3::jsonb, compiled_with = $4 WHERE id = $1`,
        [seg.id, where, JSON.stringify(params), COMPILER_VERSION]
      );
      // Never filled (a built-in after the migration): its first members enter quietly.
      if (seg.member_count === null) await fillSegment(t, seg.id, seg.rule, true);
    });
  }
}

export async function reconcileSegments(db: Db): Promise<ReconcileResult[]> {
  // First the day's roll of the recent windows, so the recompute below reads today's figures. If
  // it fails, the rules sum orders instead (compileContext) and the reconcile still runs; the
  // failure is raised after it, for the caller to log.
  const rolled = await rollRecentWindows(db).then(
    () => null,
    (err: unknown) => err
  );
  await db.query(`SELECT segment_refresh_rfm_cutoffs()`);
  await compilePending(db);
  const segments = await db.query<{ id: number; rule: SegmentGroup }>(
    `SELECT id, rule FROM segments ORDER BY id`
  );
  const results: ReconcileResult[] = [];
  for (const seg of segments) {
    const { where, params } = await compile(db, seg.rule, 'set');
    const [diff] = await db.query<{ ids: number[] | null }>(
      `WITH matched AS (SELECT c.id FROM ${BASE} WHERE ${where}),
            members AS (SELECT customer_id AS id FROM segment_members WHERE segment_id = $2)
       SELECT array_agg(id ORDER BY id) AS ids FROM (
         (SELECT id FROM matched EXCEPT SELECT id FROM members)
         UNION ALL
         (SELECT id FROM members EXCEPT SELECT id FROM matched)) d`,
      [JSON.stringify(params), seg.id]
    );
    const ids = diff.ids ?? [];
    for (let i = 0; i < ids.length; i += RECONCILE_BATCH) {
      await db.transaction((t) =>
        t.query(`SELECT segment_evaluate_one($1, $2::integer[])`, [seg.id, ids.slice(i, i + RECONCILE_BATCH)])
      );
    }
    const [counted] = await db.query<{ n: number }>(
      `UPDATE segments SET member_count = (SELECT count(*) FROM segment_members WHERE segment_id = $1),
              counted_at = clock_timestamp()
        WHERE id = $1 RETURNING member_count AS n`,
      [seg.id]
    );
    results.push({ segmentId: seg.id, corrected: ids.length, members: Number(counted?.n ?? 0) });
  }
  if (rolled) throw rolled;
  return results;
}

/**
 * Runs the reconcile now and then every `everyMs` (after the previous run ends), and just after
 * each UTC midnight, when a day leaves the recent windows (recent.ts).
 */
export function startSegmentReconcile(opts: { db: Db; logger: Logger; everyMs: number }): {
  close(): Promise<void>;
} {
  let closed = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const run = () => {
    running = reconcileSegments(opts.db)
      .then((results) => {
        const corrected = results.reduce((n, r) => n + r.corrected, 0);
        if (corrected > 0) opts.logger.info({ corrected }, 'segment reconcile corrected memberships');
      })
      .catch((err) => {
        if (!closed) opts.logger.warn({ err: (err as Error).message }, 'segment reconcile failed');
      })
      .finally(() => {
        if (closed) return;
        timer = setTimeout(run, Math.min(opts.everyMs, untilNextRoll()));
        timer.unref();
      });
  };
  run();
  return {
    close: async () => {
      closed = true;
      clearTimeout(timer);
      await running;
    }
  };
}
