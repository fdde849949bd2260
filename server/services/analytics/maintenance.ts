import type { Logger } from 'pino';
import type { Db } from '../../data/db.js';
import { compactOrderTotals } from '../lists/order-totals.js';
import { ensureFresh } from './rollups.js';

/**
 * Folds the analytics markers into the rollups in the background (at start, then every `everyMs`),
 * so a report rarely has more than a few seconds of changes to fold in before it answers.
 * Several processes may run this: refreshes take turns under an advisory lock. It also folds the
 * orders' footer totals (migration 0021) so their deltas do not pile up when nobody reads the footer.
 */
export function startRollupMaintenance(opts: { db: Db; timezone: string; logger: Logger; everyMs: number }): {
  close(): Promise<void>;
} {
  let closed = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const run = () => {
    running = ensureFresh(opts.db, opts.timezone)
      .then(() => compactOrderTotals(opts.db))
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
