import type { Db } from '../../data/db.js';
import { addDays, instantsOf } from './range.js';
import { COUNTED } from '../sql.js';

/**
 * The rollups analytics reads (sales_daily, product_sales_daily, customer_order_stats,
 * customer_monthly) are exact recomputations, never running totals: triggers on orders and
 * order_items append markers (the UTC dates and customers a statement touched), and `refreshRollups`
 * recomputes the marked store days and customers from the orders themselves. Writers never wait on
 * a rollup row; a reader calls `ensureFresh` first and sees every committed change.
 */

/** Serialises refreshes across server processes (the markers are consumed exactly once). */
const REFRESH_LOCK_KEY = 7210330643;
/** Past this many marked store days or customers, one full pass is cheaper than targeted ones. */
const REBUILD_DAYS = 120;
const REBUILD_CUSTOMERS = 25_000;

/** Orders that are sales (analytics and the wallboard count only these). */

export interface RefreshResult {
  rebuilt: boolean;
  days: number;
  customers: number;
  ms: number;
}

/** Cheap check: is anything marked, or were the rollups built for another time zone? */
export async function rollupsStale(db: Db, timezone: string): Promise<boolean> {
  const [row] = await db.query<{ stale: boolean }>(
    `SELECT (SELECT timezone FROM analytics_state) IS DISTINCT FROM $1
            OR EXISTS (SELECT 1 FROM analytics_dirty_days) OR EXISTS (SELECT 1 FROM analytics_dirty_customers) AS stale`,
    [timezone]
  );
  return row.stale;
}

/** Folds what is marked, if anything; true when it did. */
export async function ensureFresh(db: Db, timezone: string): Promise<boolean> {
  if (!(await rollupsStale(db, timezone))) return false;
  await refreshRollups(db, timezone);
  return true;
}

/**
 * Folds the markers into the rollups. Markers are deleted only when visible (committed), and the
 * recomputation that follows sees at least those commits, so a write that lands meanwhile keeps its
 * marker for the next refresh: nothing is ever lost or counted twice.
 */
export async function refreshRollups(
  db: Db,
  timezone: string,
  opts: { force?: boolean } = {}
): Promise<RefreshResult> {
  const started = performance.now();
  return db.transaction(async (t) => {
    await t.query(`SELECT pg_advisory_xact_lock($1)`, [REFRESH_LOCK_KEY]);
    const [state] = await t.query<{ timezone: string | null }>(`SELECT timezone FROM analytics_state`);
    const utcDays = (
      await t.query<{ day: string }>(
        `WITH gone AS (DELETE FROM analytics_dirty_days RETURNING day) SELECT DISTINCT day::text FROM gone`
      )
    ).map((r) => r.day);
    const customers = (
      await t.query<{ customer_id: number }>(
        `WITH gone AS (DELETE FROM analytics_dirty_customers RETURNING customer_id) SELECT DISTINCT customer_id FROM gone`
      )
    ).map((r) => r.customer_id);

    const days = utcDays.length === 0 ? [] : await storeDaysOf(t, utcDays, timezone);
    if (
      opts.force ||
      state.timezone !== timezone ||
      days.length > REBUILD_DAYS ||
      customers.length > REBUILD_CUSTOMERS
    ) {
      await rebuild(t, timezone);
      return {
        rebuilt: true,
        days: days.length,
        customers: customers.length,
        ms: performance.now() - started
      };
    }
    if (days.length > 0) await recomputeDays(t, days, timezone);
    if (customers.length > 0) await recomputeCustomers(t, customers, timezone);
    return {
      rebuilt: false,
      days: days.length,
      customers: customers.length,
      ms: performance.now() - started
    };
  });
}

/** The store days a UTC date overlaps (one or two; three around a DST change). */
async function storeDaysOf(db: Db, utcDays: string[], timezone: string): Promise<string[]> {
  const rows = await db.query<{ day: string }>(
    `SELECT DISTINCT d::date::text AS day
       FROM unnest($1::date[]) u(day),
            generate_series((((u.day::timestamp AT TIME ZONE 'UTC') AT TIME ZONE $2))::date,
                            ((((u.day + 1)::timestamp AT TIME ZONE 'UTC') - interval '1 microsecond') AT TIME ZONE $2)::date,
                            interval '1 day') d`,
    [utcDays, timezone]
  );
  return rows.map((r) => r.day);
}

/** Sorted days grouped into runs of consecutive days, so each run is one index range scan. */
function consecutiveRuns(days: string[]): { first: string; last: string }[] {
  const sorted = [...days].sort();
  const runs: { first: string; last: string }[] = [];
  for (const day of sorted) {
    const run = runs.at(-1);
    if (run && addDays(run.last, 1) === day) run.last = day;
    else runs.push({ first: day, last: day });
  }
  return runs;
}

async function recomputeDays(db: Db, days: string[], timezone: string) {
  for (const { first, last } of consecutiveRuns(days)) {
    // Literal instants (not expressions over a join) so the planner sees how few orders a day has.
    const { start, end } = await instantsOf(db, first, last, timezone);
    const params = [start, end, timezone];
    await db.query(`DELETE FROM sales_daily WHERE day BETWEEN $1 AND $2`, [first, last]);
    await db.query(
      `INSERT INTO sales_daily (day, orders, revenue)
       SELECT (order_date AT TIME ZONE $3)::date, count(*), sum(total)
         FROM orders WHERE order_date >= $1 AND order_date < $2 AND ${COUNTED} GROUP BY 1`,
      params
    );
    await db.query(`DELETE FROM product_sales_daily WHERE day BETWEEN $1 AND $2`, [first, last]);
    await db.query(
      `INSERT INTO product_sales_daily (day, product_id, orders, units, revenue)
       SELECT (o.order_date AT TIME ZONE $3)::date, i.product_id, count(DISTINCT o.id), sum(i.quantity), sum(i.quantity * i.unit_price)
         FROM orders o
              -- OFFSET 0 keeps this a per-order index lookup instead of a hash join over every item.
              CROSS JOIN LATERAL (SELECT product_id, quantity, unit_price FROM order_items WHERE order_id = o.id OFFSET 0) i
        WHERE o.order_date >= $1 AND o.order_date < $2 AND o.${COUNTED}
        GROUP BY 1, 2`,
      params
    );
  }
}

/** A month's number (year * 12 + month - 1) of a `date` column, as customer_order_stats.first_month. */
export const MONTH_NO = (column: string) =>
  `(extract(year FROM ${column})::int * 12 + extract(month FROM ${column})::int - 1)`;

/** Monthly sales per customer; the caller completes the WHERE of the inner query and closes it. */
const MONTHLY_INSERT = `
  INSERT INTO customer_monthly (customer_id, month, cohort, orders, revenue, first_order_at, last_order_at)
  SELECT customer_id, month, min(month) OVER (PARTITION BY customer_id), orders, revenue, first_order_at, last_order_at
    FROM (SELECT customer_id, date_trunc('month', order_date AT TIME ZONE $1)::date AS month,
                 count(*) AS orders, sum(total) AS revenue, min(order_date) AS first_order_at, max(order_date) AS last_order_at
            FROM orders`;

/**
 * customer_order_stats from customer_monthly (for the customers `filter` picks there): totals, and
 * running totals for every month from the first to the last, months without sales included.
 */
const statsFromMonthly = (filter: string) => `
  INSERT INTO customer_order_stats (customer_id, first_order_at, last_order_at, orders, revenue, first_month, cum_orders, cum_cents, cum_last)
  SELECT customer_id, min(first_order_at), max(last_order_at), sum(orders), sum(revenue), min(month_no),
         array_agg(cum_orders ORDER BY month_no), array_agg(cum_cents ORDER BY month_no), array_agg(cum_last ORDER BY month_no)
    FROM (
      SELECT d.customer_id, d.month_no, m.first_order_at, m.last_order_at, m.orders, m.revenue,
             sum(coalesce(m.orders, 0)) OVER w AS cum_orders,
             sum(coalesce((m.revenue * 100)::bigint, 0)) OVER w AS cum_cents,
             max(m.last_order_at) OVER w AS cum_last
        FROM (SELECT customer_id, generate_series(min(${MONTH_NO('month')}), max(${MONTH_NO('month')})) AS month_no
                FROM customer_monthly WHERE ${filter} GROUP BY customer_id) d
        LEFT JOIN customer_monthly m ON m.customer_id = d.customer_id AND ${MONTH_NO('m.month')} = d.month_no
      WINDOW w AS (PARTITION BY d.customer_id ORDER BY d.month_no)
    ) running
   GROUP BY customer_id`;

async function recomputeCustomers(db: Db, customers: number[], timezone: string) {
  await db.query(`DELETE FROM customer_monthly WHERE customer_id = ANY($1::int[])`, [customers]);
  await db.query(`${MONTHLY_INSERT} WHERE customer_id = ANY($2::int[]) AND ${COUNTED} GROUP BY 1, 2) m`, [
    timezone,
    customers
  ]);
  await db.query(`DELETE FROM customer_order_stats WHERE customer_id = ANY($1::int[])`, [customers]);
  await db.query(statsFromMonthly('customer_id = ANY($1::int[])'), [customers]);
}

/** Everything from scratch, one pass per rollup (after a seed or import, or a new time zone). */
async function rebuild(db: Db, timezone: string) {
  await db.query(`TRUNCATE sales_daily, product_sales_daily, customer_order_stats, customer_monthly`);
  await db.query(`SET LOCAL work_mem = '64MB'`);
  await db.query(
    `INSERT INTO sales_daily (day, orders, revenue)
     SELECT (order_date AT TIME ZONE $1)::date, count(*), sum(total) FROM orders WHERE ${COUNTED} GROUP BY 1`,
    [timezone]
  );
  await db.query(
    `INSERT INTO product_sales_daily (day, product_id, orders, units, revenue)
     SELECT (o.order_date AT TIME ZONE $1)::date, i.product_id, count(DISTINCT o.id), sum(i.quantity), sum(i.quantity * i.unit_price)
       FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.${COUNTED} GROUP BY 1, 2`,
    [timezone]
  );
  await db.query(`${MONTHLY_INSERT} WHERE ${COUNTED} GROUP BY 1, 2) m`, [timezone]);
  await db.query(statsFromMonthly('true'));
  await db.query(`UPDATE analytics_state SET timezone = $1, built_at = now()`, [timezone]);
  await db.query(`ANALYZE sales_daily, product_sales_daily, customer_order_stats, customer_monthly`);
}
