import type { Cohort, CohortReport, ResolvedRange } from '#shared/schemas/analytics.js';
import type { Db } from '../../data/db.js';
import { monthsOf } from './range.js';

/**
 * Monthly cohorts by first order: every customer whose first order (ever) falls in a month of the
 * range is in that month's cohort; month +k shows how many of them ordered in the k-th month after,
 * up to the range's last month. Whole months: a range from the 15th includes that month's cohort.
 */
export async function cohortReport(db: Db, range: ResolvedRange): Promise<CohortReport> {
  const months = monthsOf(range.from, range.to);
  const first = months[0];
  const last = months.at(-1)!;
  const rows = await db.query<{ cohort: string; month: string; customers: number }>(
    `SELECT cohort::text, month::text, count(*)::int AS customers
       FROM customer_monthly
      WHERE cohort >= $1::date AND cohort <= $2::date AND month <= $2::date
      GROUP BY cohort, month`,
    [first, last]
  );
  const cells = new Map(rows.map((r) => [`${r.cohort}|${r.month}`, r.customers]));
  const cohorts: Cohort[] = months.map((cohort, c) => {
    const customers = cells.get(`${cohort}|${cohort}`) ?? 0;
    return {
      cohort: cohort.slice(0, 7),
      customers,
      retention: months.slice(c).map((month, offset) => {
        const active = cells.get(`${cohort}|${month}`) ?? 0;
        return {
          month: month.slice(0, 7),
          offset,
          customers: active,
          percent: customers === 0 ? 0 : Math.round((active * 1000) / customers) / 10
        };
      })
    };
  });
  return { range: { ...range, months: months.map((m) => m.slice(0, 7)) }, cohorts };
}
