import type { Logger } from 'pino';
import type { Db } from '../../data/db.js';
import { compactOrderDailyTotals, compactOrderTotals } from '../lists/order-totals.js';
import { storeToday } from './range.js';
import { buildRfmBoundaries, rfmProfileRange } from './rfm.js';
import { ensureFresh } from './rollups.js';

/**
 * Folds the analytics markers into the rollups in the background (at start, then every `everyMs`),
 * so a report rarely has more than a few seconds of changes to fold in before it answers.
 * Several processes may run this: refreshes take turns under an advisory lock. It also folds the
 * orders' footer totals (migrations 0021, 0030) so their deltas do not pile up when nobody reads the
 * footer, and rewrites the RFM quintile ends the customer 360 places a customer with.
 */
export function startRollupMaintenance(opts: { db: Db; timezone: string; logger: Logger; everyMs: number }): {
  close(): Promise<void>;
} {
  let closed = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  // Whether this process folded order changes since it last wrote the RFM quintile ends.
  let ordersChanged = false;
  const run = () => {
    running = ensureFresh(opts.db, opts.timezone)
      .then(async (refreshed) => {
        ordersChanged ||= refreshed;
        if (await refreshRfmBoundaries(opts.db, opts.timezone, ordersChanged)) ordersChanged = false;
      })
      .then(() => compactOrderTotals(opts.db))
      .then(() => compactOrderDailyTotals(opts.db))
      .catch((err) => {
        if (!closed) opts.logger.warn({ err: (err as Error).message }, 'analytics rollup refresh failed');
      })
      .finally(() => {
        if (closed) return;
        timer = setTimeout(run, opts.everyMs);
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

/** The quintile ends move slowly: while orders keep changing they are rebuilt at most this often... */
const RFM_BOUNDARIES_EVERY_S = 5 * 60;
/** ...and at least this often (a refresh folded by a request's ensureFresh is not seen here). */
const RFM_BOUNDARIES_AT_MOST_S = 60 * 60;

/**
 * The RFM quintile ends of the 360's range (rfm.ts): rebuilt when the range moved to a new day,
 * when orders changed since they were built and they are RFM_BOUNDARIES_EVERY_S old, and past
 * RFM_BOUNDARIES_AT_MOST_S in any case. True when rebuilt.
 */
export async function refreshRfmBoundaries(
  db: Db,
  timezone: string,
  ordersChanged: boolean
): Promise<boolean> {
  const range = rfmProfileRange(storeToday(timezone), timezone);
  const [row] = await db.query<{ current: boolean; age: number }>(
    `SELECT (timezone = $1 AND range_from = $2::date AND range_to = $3::date) AS current,
            extract(epoch FROM now() - built_at)::float8 AS age
       FROM rfm_boundaries`,
    [range.timezone, range.from, range.to]
  );
  if (
    row?.current &&
    row.age < RFM_BOUNDARIES_AT_MOST_S &&
    !(ordersChanged && row.age >= RFM_BOUNDARIES_EVERY_S)
  )
    return false;
  await buildRfmBoundaries(db, range);
  return true;
}
