import type { ResolvedRange } from '../../../src/lib/shared/schemas/analytics.js';
import type { Db } from './db.js';
import { addDays, instantsOf, monthsOf } from './range.js';
import { COUNTED } from './rollups.js';

/** Collects bind parameters while a statement is written: `p(value)` gives its `$n`. */
export class Params {
  readonly values: unknown[] = [];
  p(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * SQL for `activity(customer_id, orders, cents, last_order_at)`: each customer's sales in the
 * range (revenue in cents: integers sort and add much faster than NUMERIC). A range that covers
 * every order there is reads customer_order_stats as it is; otherwise the whole months in the middle
 * are two lookups in each customer's running totals (one row per customer, however many months),
 * and the partial months at either end are read from the orders (index-only scans of orders_sales_idx).
 */
export async function activitySql(db: Db, range: ResolvedRange, params: Params): Promise<string> {
  const { start, end } = await instantsOf(db, range.from, range.to, range.timezone);
  const [span] = await db.query<{ first: Date | null; last: Date | null }>(
    `SELECT (SELECT min(first_order_at) FROM customer_order_stats) AS first, (SELECT max(last_order_at) FROM customer_order_stats) AS last`
  );
  if (span.first === null || (new Date(span.first) >= start && new Date(span.last!) < end)) {
    return `activity AS (SELECT customer_id, orders, (revenue * 100)::bigint AS cents, last_order_at FROM customer_order_stats)`;
  }
  const whole: string[] = [];
  const partial: { from: string; to: string }[] = [];
  for (const month of monthsOf(range.from, range.to)) {
    const last = addDays(nextMonth(month), -1);
    const from = month < range.from ? range.from : month;
    const to = last > range.to ? range.to : last;
    if (from === month && to === last) whole.push(month);
    else partial.push({ from, to });
  }
  const parts: string[] = [];
  if (whole.length > 0) {
    // Running totals at the last whole month, less those at the month before the first.
    const first = whole[0];
    const [y1, m1] = first.split('-').map(Number);
    const [y2, m2] = whole.at(-1)!.split('-').map(Number);
    const { start: wholeStart } = await instantsOf(db, first, first, range.timezone);
    parts.push(`
      SELECT customer_id, cum_orders[hi] - coalesce(cum_orders[lo], 0) AS orders, cum_cents[hi] - coalesce(cum_cents[lo], 0) AS cents,
             cum_last[hi] AS last_order_at
        FROM (SELECT s.customer_id, s.cum_orders, s.cum_cents, s.cum_last,
                     least(${params.p(y2 * 12 + m2 - 1)}::int - s.first_month + 1, cardinality(s.cum_orders)) AS hi,
                     least(${params.p(y1 * 12 + m1 - 1)}::int - s.first_month, cardinality(s.cum_orders)) AS lo
                FROM customer_order_stats s
               WHERE s.first_month <= ${params.p(y2 * 12 + m2 - 1)}::int AND s.last_order_at >= ${params.p(wholeStart)}) k
       WHERE cum_orders[hi] - coalesce(cum_orders[lo], 0) > 0`);
  }
  for (const piece of partial) {
    const bounds = await instantsOf(db, piece.from, piece.to, range.timezone);
    parts.push(
      `SELECT customer_id, count(*)::int AS orders, (sum(total) * 100)::bigint AS cents, max(order_date) AS last_order_at FROM orders
        WHERE order_date >= ${params.p(bounds.start)} AND order_date < ${params.p(bounds.end)} AND ${COUNTED} GROUP BY customer_id`
    );
  }
  if (parts.length === 1) return `activity AS (${parts[0]})`;
  // Each part has one row per customer: full joins put them side by side (no regrouping).
  const names = parts.map((_, i) => `p${i}`);
  const each = (column: string) => names.map((n) => `${n}.${column}`);
  return `activity AS (
    SELECT customer_id,
           (${each('orders').map((c) => `coalesce(${c}, 0)`).join(' + ')})::int AS orders,
           (${each('cents').map((c) => `coalesce(${c}, 0)`).join(' + ')})::bigint AS cents,
           greatest(${each('last_order_at').join(', ')}) AS last_order_at
      FROM ${parts.map((sql, i) => (i === 0 ? `(${sql}) ${names[i]}` : `FULL JOIN (${sql}) ${names[i]} USING (customer_id)`)).join(' ')}
  )`;
}

const nextMonth = (month: string) => {
  const [y, m] = month.split('-').map(Number);
  return new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 10);
};
