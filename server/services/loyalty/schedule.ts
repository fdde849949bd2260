import type { Logger } from 'pino';
import type { Db } from '../../data/db.js';

/** What one run did. */
export interface LoyaltyRun {
  released: number;
  expired: number;
  /** Birthday bonuses awarded. */
  birthdays: number;
  /** Tiers changed by the refresh (null: not refreshed this run). */
  tiers: number | null;
}

/**
 * Pending points whose return window has passed become available, what is left of expired lots
 * expires, today's birthdays (in the store's time zone) get the program's bonus, and, with
 * `tiers`, every member's tier is brought to what the program in force says (its basis, rolling
 * windows, graces that ended). Each SQL function locks an account before changing it and decides
 * under the lock, and each award has a unique key, so running this twice, or in two processes at
 * once, changes nothing the second time.
 */
export async function runLoyaltySchedule(
  db: Db,
  opts: { timezone?: string; tiers?: boolean } = {}
): Promise<LoyaltyRun> {
  const [released] = await db.query<{ n: number }>(`SELECT loyalty_release_pending() AS n`);
  const [expired] = await db.query<{ n: number }>(`SELECT loyalty_expire_points() AS n`);
  const [birthdays] = await db.query<{ n: number }>(`SELECT loyalty_award_birthdays($1) AS n`, [
    opts.timezone ?? 'UTC'
  ]);
  let tiers: number | null = null;
  if (opts.tiers ?? true) {
    const [row] = await db.query<{ n: number }>(`SELECT loyalty_refresh_tiers() AS n`);
    tiers = Number(row.n);
  }
  return {
    released: Number(released.n),
    expired: Number(expired.n),
    birthdays: Number(birthdays.n),
    tiers
  };
}

/**
 * Refreshing every tier is a scan of all members (and, on a 12-month basis, of a year of orders
 * or earnings), so the loop does it at most this often, and sooner only when a grace ended or a
 * version took effect since the last refresh (what makes tiers move without a ledger entry).
 */
const TIER_REFRESH_MS = 3600_000;

/** Whether a grace ended or another version came into force since `since` (the database's clock). */
async function tiersDue(
  db: Db,
  since: Date | null,
  versionId: number | null
): Promise<{ due: boolean; versionId: number; now: Date }> {
  const [row] = await db.query<{ now: Date; version_id: number; grace_ended: boolean; stale: boolean }>(
    `SELECT now() AS now, loyalty_program_version_at(now()) AS version_id,
            EXISTS (SELECT 1 FROM loyalty_tier_grace WHERE until > $1::timestamptz AND until <= now()) AS grace_ended,
            $1::timestamptz IS NULL OR $1::timestamptz < now() - make_interval(secs => $2) AS stale`,
    [since, TIER_REFRESH_MS / 1000]
  );
  return {
    due: row.stale || row.grace_ended || row.version_id !== versionId,
    versionId: row.version_id,
    now: row.now
  };
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
  let tiersAt: Date | null = null;
  let tiersVersion: number | null = null;
  const run = () => {
    let sleep = opts.everyMs;
    running = (async () => {
      const tiers = await tiersDue(opts.db, tiersAt, tiersVersion);
      const done = await runLoyaltySchedule(opts.db, { timezone: opts.timezone, tiers: tiers.due });
      if (tiers.due) {
        tiersAt = tiers.now;
        tiersVersion = tiers.versionId;
      }
      return done;
    })()
      .then(async (done) => {
        if (done.released || done.expired || done.birthdays || done.tiers)
          opts.logger.info(done, 'loyalty schedule');
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
