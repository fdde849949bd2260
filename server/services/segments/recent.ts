import type { Db } from '../../data/db.js';

// The day's roll of the recent windows customer_stats keeps (migration 0048). Each change of a
// customer's orders recomputes their windows at commit; what no write announces is a day leaving
// a window at midnight (UTC). The roll refreshes the customers with orders on the days that left
// since the figures were last rolled, in short transactions, then records today as the day the
// figures end on. Rules read the figures only when that day is today (segments.ts), so a count
// taken during the roll sums the orders instead. Running it twice, or in two processes at once,
// refreshes the same customers to the same figures.

/** Customers refreshed per transaction: short row locks on their summaries. */
const ROLL_BATCH = 1000;

export interface RecentRoll {
  /** The UTC day the figures ended on before, and end on now (equal when nothing was due). */
  from: string;
  to: string;
  refreshed: number;
}

export async function rollRecentWindows(db: Db): Promise<RecentRoll> {
  const [state] = await db.query<{ from: string; to: string }>(
    `SELECT day::text AS from, (now() AT TIME ZONE 'UTC')::date::text AS to FROM customer_stats_recent`
  );
  // Without its row (deleted by hand) nothing is rolled, and rules sum orders (compileContext).
  if (!state) return { from: '', to: '', refreshed: 0 };
  if (state.from >= state.to) return { ...state, refreshed: 0 };
  const [leavers] = await db.query<{ ids: number[] | null }>(
    `SELECT array_agg(id) AS ids FROM recent_window_leavers($1::date, $2::date) AS id`,
    [state.from, state.to]
  );
  const ids = leavers.ids ?? [];
  for (let i = 0; i < ids.length; i += ROLL_BATCH) {
    await db.transaction((t) =>
      t.query(`SELECT refresh_customer_stats($1::integer[])`, [ids.slice(i, i + ROLL_BATCH)])
    );
  }
  // Never backwards: a slower roller that started yesterday does not undo today's.
  await db.query(`UPDATE customer_stats_recent SET day = $1::date WHERE day < $1::date`, [state.to]);
  return { ...state, refreshed: ids.length };
}

/** Milliseconds from `now` to just after the next UTC midnight, when the next roll is due. */
export function untilNextRoll(now = new Date()): number {
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return next - now.getTime() + 1000;
}
