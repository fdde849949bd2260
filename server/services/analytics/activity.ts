import type { ResolvedRange } from '#shared/schemas/analytics.js';
import type { Db } from '../../data/db.js';
import { boundariesOf, bucketsOf } from './range.js';
import { COUNTED } from '../sql.js';
import type { Params } from '../sql.js';

/** The `activity` CTE of a range, and the instants the range starts and ends at. */
export interface Activity {
  sql: string;
  start: Date;
  end: Date;
}

/**
 * SQL for `activity(customer_id, orders, cents, last_order_at)`: each customer's sales in the
 * range (revenue in cents: integers sort and add much faster than NUMERIC). A range that covers
 * every order there is reads customer_order_stats as it is; otherwise the whole months in the middle
 * are two lookups in each customer's running totals (one row per customer, however many months),
 * and the partial months at either end are read from the orders (index-only scans of orders_sales_idx).
 */
export async function activitySql(db: Db, range: ResolvedRange, params: Params): Promise<Activity> {
  const months = bucketsOf({ ...range, bucket: 'month' });
  // Where each month of the range starts, and where the range ends: one round trip.
  const bounds = await boundariesOf(db, months, range.timezone);
  const [start, end] = [bounds[0], bounds.at(-1)!];
  const [span] = await db.query<{ first: Date | null; last: Date | null }>(
    `SELECT (SELECT min(first_order_at) FROM customer_order_stats) AS first, (SELECT max(last_order_at) FROM customer_order_stats) AS last`
  );
  if (span.first === null || (new Date(span.first) >= start && new Date(span.last!) < end)) {
    return {
      sql: `activity AS (SELECT customer_id, orders, (revenue * 100)::bigint AS cents, last_order_at FROM customer_order_stats)`,
      start,
      end
    };
  }
  const whole = months.flatMap((m, i) => (m.whole ? [{ month: m.bucket, start: bounds[i] }] : []));
  const parts: string[] = [];
  if (whole.length > 0) {
    // Running totals at the last whole month, less those at the month before the first.
    const [y1, m1] = whole[0].month.split('-').map(Number);
    const [y2, m2] = whole.at(-1)!.month.split('-').map(Number);
    parts.push(`
      SELECT customer_id, cum_orders[hi] - coalesce(cum_orders[lo], 0) AS orders, cum_cents[hi] - coalesce(cum_cents[lo], 0) AS cents,
             cum_last[hi] AS last_order_at
        FROM (SELECT s.customer_id, s.cum_orders, s.cum_cents, s.cum_last,
                     least(${params.p(y2 * 12 + m2 - 1)}::int - s.first_month + 1, cardinality(s.cum_orders)) AS hi,
                     least(${params.p(y1 * 12 + m1 - 1)}::int - s.first_month, cardinality(s.cum_orders)) AS lo
                FROM customer_order_stats s
               WHERE s.first_month <= ${params.p(y2 * 12 + m2 - 1)}::int AND s.last_order_at >= ${params.p(whole[0].start)}) k
       WHERE cum_orders[hi] - coalesce(cum_orders[lo], 0) > 0`);
  }
  months.forEach((m, i) => {
    if (m.whole) return;
    parts.push(
      `SELECT customer_id, count(*)::int AS orders, (sum(total) * 100)::bigint AS cents, max(order_date) AS last_order_at FROM orders
        WHERE order_date >= ${params.p(bounds[i])} AND order_date < ${params.p(bounds[i + 1])} AND ${COUNTED} GROUP BY customer_id`
    );
  });
  if (parts.length === 1) return { sql: `activity AS (${parts[0]})`, start, end };
  // Each part has one row per customer: full joins put them side by side (no regrouping).
  const names = parts.map((_, i) => `p${i}`);
  const each = (column: string) => names.map((n) => `${n}.${column}`);
  const sql = `activity AS (
    SELECT customer_id,
           (${each('orders')
             .map((c) => `coalesce(${c}, 0)`)
             .join(' + ')})::int AS orders,
           (${each('cents')
             .map((c) => `coalesce(${c}, 0)`)
             .join(' + ')})::bigint AS cents,
           greatest(${each('last_order_at').join(', ')}) AS last_order_at
      FROM ${parts.map((part, i) => (i === 0 ? `(${part}) ${names[i]}` : `FULL JOIN (${part}) ${names[i]} USING (customer_id)`)).join(' ')}
  )`;
  return { sql, start, end };
}
