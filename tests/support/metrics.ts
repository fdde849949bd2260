import type pg from 'pg';
import pino from 'pino';
import type { ChangeReader } from '../../server/realtime/change-reader.js';
import { WallboardMetrics } from '../../server/services/wallboard/metrics.js';
import { poolDb } from '../../server/data/db.js';

/** Wallboard metrics on `sql`, at a fixed "now", already computed from SQL (one reconcile). */
export async function reconciledMetrics(
  sql: pg.Pool,
  opts: { timezone: string; clock: () => number }
): Promise<WallboardMetrics> {
  const metrics = new WallboardMetrics({
    db: poolDb(sql),
    timezone: opts.timezone,
    logger: pino({ level: 'silent' }),
    clock: opts.clock
  });
  await metrics.reconcile();
  return metrics;
}

/** Applies every change the reader has not read yet, until a read finds none. */
export async function drain(reader: ChangeReader, metrics: WallboardMetrics) {
  while ((await reader.read((r) => metrics.apply(r.rows))) > 0);
}
