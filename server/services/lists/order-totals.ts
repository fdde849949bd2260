import type { ListSummary } from '#shared/lists/query.js';
import type { Db } from '../../data/db.js';

/** Deltas summed on read past which they are folded into one row (a read of ~1 ms stays one). */
const ORDER_TOTALS_COMPACT_AT = 5000;

/**
 * The footer of every order, from the totals migration 0021 keeps (a delta per writing statement)
 * rather than a scan of every order: the same count, sum and rounded average as the scan.
 */
export async function orderTotals(db: Db): Promise<ListSummary> {
  const [row] = await db.query<{ deltas: number; count: string; sum: string; avg: string | null }>(
    `SELECT count(*)::integer AS deltas, coalesce(sum(orders), 0)::text AS count,
            coalesce(sum(total), 0)::numeric(20, 2)::text AS sum,
            round(sum(total) / nullif(sum(orders), 0), 2)::numeric(20, 2)::text AS avg
       FROM order_totals`
  );
  if (row.deltas > ORDER_TOTALS_COMPACT_AT) await compactOrderTotals(db);
  return {
    count: Number(row.count),
    sums: { total: row.sum },
    averages: row.avg === null ? {} : { total: row.avg }
  };
}

/** Folds the committed deltas into one row (also after each background rollup refresh, server/services/analytics/maintenance.ts). */
export async function compactOrderTotals(db: Db): Promise<void> {
  await db.query(`SELECT compact_order_totals()`);
}
