import {
  RFM_LABELS,
  RFM_SEGMENTS,
  type ResolvedRange,
  type RfmReport,
  type RfmSegment
} from '#shared/schemas/analytics.js';
import { formatHundredths } from '#shared/rules/money.js';
import { activitySql } from './activity.js';
import { addDays } from './range.js';
import { ensureFresh } from './rollups.js';
import { COUNTED, Params } from '../sql.js';
import type { Db } from '../../data/db.js';

/**
 * RFM over the range's buyers. Each score is a quintile, ntile(5), 5 the best: R by the last
 * order's date, F by the number of orders, M by revenue (ties broken by the other measure, then by
 * customer id, so the scores are deterministic). FM is the mean of F and M, rounded up. Segments:
 * champions R>=4 FM>=4; loyal R>=3 FM>=3; promising R>=4; needs attention R=3;
 * at risk R<=2 FM>=3; hibernating R<=2 FM<=2.
 */
export function scoredSql(activity: string): string {
  return `WITH ${activity},
    scored AS (
      SELECT a.*,
             ntile(5) OVER (ORDER BY a.last_order_at, a.customer_id) AS r,
             ntile(5) OVER (ORDER BY a.orders, a.cents, a.customer_id) AS f,
             ntile(5) OVER (ORDER BY a.cents, a.orders, a.customer_id) AS m
        FROM activity a
    ),
    segmented AS (
      SELECT s.*, (s.f + s.m + 1) / 2 AS fm,
             CASE WHEN s.r >= 4 AND (s.f + s.m + 1) / 2 >= 4 THEN 'champions'
                  WHEN s.r >= 3 AND (s.f + s.m + 1) / 2 >= 3 THEN 'loyal'
                  WHEN s.r >= 4 THEN 'promising'
                  WHEN s.r = 3 THEN 'needs_attention'
                  WHEN (s.f + s.m + 1) / 2 >= 3 THEN 'at_risk'
                  ELSE 'hibernating' END AS segment
        FROM scored s
    )`;
}

/** The segment of a recency score and an FM score: the CASE in `scoredSql`, for grouped rows. */
export function segmentOf(r: number, fm: number): RfmSegment {
  if (r >= 4 && fm >= 4) return 'champions';
  if (r >= 3 && fm >= 3) return 'loyal';
  if (r >= 4) return 'promising';
  if (r === 3) return 'needs_attention';
  return fm >= 3 ? 'at_risk' : 'hibernating';
}

export async function rfmReport(db: Db, range: ResolvedRange): Promise<RfmReport> {
  const params = new Params();
  const { sql: activity, end } = await activitySql(db, range, params);
  // Grouped by the integer scores only; the 25 groups are named here.
  const rows = await db.query<{
    r: number;
    fm: number;
    customers: number;
    orders: number;
    cents: string;
    recency_days: number;
  }>(
    `${scoredSql(activity)}
     SELECT r, (f + m + 1) / 2 AS fm, count(*)::int AS customers, sum(orders)::int AS orders, sum(cents)::text AS cents,
            sum(date_part('epoch', ${params.p(end)}::timestamptz - last_order_at)) / 86400 AS recency_days
       FROM scored GROUP BY 1, 2`,
    params.values
  );
  const segments = new Map(RFM_SEGMENTS.map((s) => [s, { customers: 0, orders: 0, cents: 0, recency: 0 }]));
  const grid: RfmReport['grid'] = [];
  for (const row of rows) {
    const s = segments.get(segmentOf(row.r, row.fm))!;
    s.customers += row.customers;
    s.orders += row.orders;
    s.cents += Number(row.cents);
    s.recency += row.recency_days;
    grid.push({ r: row.r, fm: row.fm, customers: row.customers });
  }
  grid.sort((a, b) => b.r - a.r || b.fm - a.fm);
  const all = [...segments.values()];
  return {
    range,
    customers: all.reduce((n, s) => n + s.customers, 0),
    revenue: formatHundredths(all.reduce((n, s) => n + s.cents, 0)),
    segments: RFM_SEGMENTS.map((segment) => {
      const s = segments.get(segment)!;
      return {
        segment,
        label: RFM_LABELS[segment],
        customers: s.customers,
        orders: s.orders,
        revenue: formatHundredths(s.cents),
        averageRecencyDays: s.customers === 0 ? null : Math.round((s.recency / s.customers) * 10) / 10
      };
    }),
    grid
  };
}

/**
 * Where each quintile of the range's buyers ends, by the report's own scores (`scoredSql`): for R,
 * F and M the sort key of the last buyer of quintiles 1 to 4 (fewer with fewer than five buyers).
 * A buyer's score is then 1 + the number of those ends its key is past, exactly its ntile(5).
 * Written by the background rollup refresh (maintenance.ts) into rfm_boundaries (migration 0030).
 */
export async function buildRfmBoundaries(db: Db, range: ResolvedRange): Promise<void> {
  const params = new Params();
  const { sql: activity } = await activitySql(db, range, params);
  const ends = (score: string, key: string[]) =>
    `(SELECT coalesce(jsonb_agg(jsonb_build_array(${key.join(', ')}) ORDER BY ${score}), '[]')
        FROM (SELECT DISTINCT ON (${score}) ${score}, ${key.join(', ')} FROM scored WHERE ${score} < 5
               ORDER BY ${score}, ${key.map((k) => `${k} DESC`).join(', ')}) e)`;
  await db.query(
    `${scoredSql(activity)}
     INSERT INTO rfm_boundaries (timezone, range_from, range_to, buyers, bounds, built_at)
     SELECT ${params.p(range.timezone)}, ${params.p(range.from)}::date, ${params.p(range.to)}::date,
            (SELECT count(*) FROM scored)::int,
            jsonb_build_object('r', ${ends('r', ['last_order_at', 'customer_id'])},
                               'f', ${ends('f', ['orders', 'cents', 'customer_id'])},
                               'm', ${ends('m', ['cents', 'orders', 'customer_id'])}),
            now()
     ON CONFLICT (singleton) DO UPDATE SET timezone = excluded.timezone, range_from = excluded.range_from,
       range_to = excluded.range_to, buyers = excluded.buyers, bounds = excluded.bounds, built_at = excluded.built_at`,
    params.values
  );
}

/** The range the customer 360's segment is over: the last 12 months (364 days back to today). */
export const rfmProfileRange = (today: string, timezone: string): ResolvedRange => ({
  from: addDays(today, -364),
  to: today,
  timezone
});

/**
 * One customer's segment among the range's buyers, by the report's scores and rules: their own
 * orders, sales and last order in the range (from the orders, so always current), placed against the
 * quintile ends of the last refresh (rfm_boundaries; built here when there are none for this range).
 * Null when they bought nothing in the range.
 */
export async function rfmSegmentOf(
  db: Db,
  range: ResolvedRange,
  customerId: number
): Promise<RfmSegment | null> {
  const place = () =>
    db.query<{ orders: number; r: number; f: number; m: number }>(
      `WITH me AS (
         SELECT count(*)::int AS orders, (sum(total) * 100)::bigint AS cents, max(order_date) AS last_order_at
           FROM orders
          WHERE customer_id = $1 AND ${COUNTED}
            AND order_date >= ($2::date::timestamp AT TIME ZONE $4) AND order_date < (($3::date + 1)::timestamp AT TIME ZONE $4)
       ),
       b AS (SELECT bounds FROM rfm_boundaries WHERE timezone = $4 AND range_from = $2::date AND range_to = $3::date)
       SELECT me.orders,
              1 + (SELECT count(*) FROM jsonb_array_elements(b.bounds -> 'r') e
                    WHERE ((e ->> 0)::timestamptz, (e ->> 1)::int) < (me.last_order_at, $1::int))::int AS r,
              1 + (SELECT count(*) FROM jsonb_array_elements(b.bounds -> 'f') e
                    WHERE ((e ->> 0)::int, (e ->> 1)::bigint, (e ->> 2)::int) < (me.orders, me.cents, $1::int))::int AS f,
              1 + (SELECT count(*) FROM jsonb_array_elements(b.bounds -> 'm') e
                    WHERE ((e ->> 0)::bigint, (e ->> 1)::int, (e ->> 2)::int) < (me.cents, me.orders, $1::int))::int AS m
         FROM me, b`,
      [customerId, range.from, range.to, range.timezone]
    );
  let [row] = await place();
  if (!row) {
    await ensureFresh(db, range.timezone);
    await buildRfmBoundaries(db, range);
    [row] = await place();
  }
  if (!row || row.orders === 0) return null;
  return segmentOf(row.r, Math.floor((row.f + row.m + 1) / 2));
}
