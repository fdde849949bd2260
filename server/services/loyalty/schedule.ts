import type { Logger } from 'pino';
import type { Db } from '../../data/db.js';

/** What one run did. */
export interface LoyaltyRun {
  released: number;
  expired: number;
  /** Birthday bonuses awarded. */
  birthdays: number;
}

/**
 * Pending points whose return window has passed become available, what is left of expired lots
 * expires, and today's birthdays (in the store's time zone) get the program's bonus. Each SQL
 * function locks an account before changing it and decides under the lock, and each award has a
 * unique key, so running this twice, or in two processes at once, changes nothing the second time.
 */
export async function runLoyaltySchedule(db: Db, opts: { timezone?: string } = {}): Promise<LoyaltyRun> {
  const [released] = await db.query<{ n: number }>(`SELECT loyalty_release_pending() AS n`);
  const [expired] = await db.query<{ n: number }>(`SELECT loyalty_expire_points() AS n`);
  const [birthdays] = await db.query<{ n: number }>(`SELECT loyalty_award_birthdays($1) AS n`, [
    opts.timezone ?? 'UTC'
  ]);
  return { released: Number(released.n), expired: Number(expired.n), birthdays: Number(birthdays.n) };
}

/** Shortest sleep, so a burst of windows ending together is one run, not many. */
const MIN_SLEEP_MS = 100;

/**
 * Runs the schedule at start, then at the latest every `everyMs`, or as soon as the next pending
 * lot's window ends if that is sooner (so points become available within a moment of it).
 */
export function startLoyaltySchedule(opts: { db: Db; logger: Logger; everyMs: number; timezone: string }): {
  close(): Promise<void>;
} {
  let closed = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const nextWindowEnd = async () => {
    const [row] = await opts.db.query<{ ms: number | null }>(
      `SELECT (extract(epoch FROM min(pending_until) - now()) * 1000)::float8 AS ms FROM loyalty_lots WHERE pending`
    );
    return row?.ms == null ? null : Number(row.ms);
  };
  const run = () => {
    let sleep = opts.everyMs;
    running = runLoyaltySchedule(opts.db, { timezone: opts.timezone })
      .then(async (done) => {
        if (done.released || done.expired || done.birthdays) opts.logger.info(done, 'loyalty schedule');
        const due = await nextWindowEnd();
        if (due !== null) sleep = Math.min(sleep, Math.max(due, MIN_SLEEP_MS));
      })
      .catch((err) => {
        if (!closed) opts.logger.warn({ err: (err as Error).message }, 'loyalty schedule failed');
      })
      .finally(() => {
        if (closed) return;
        timer = setTimeout(run, sleep);
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
