import { isFilterGroup, type FilterGroup, type FilterRule, type ListSummary } from '#shared/lists/query.js';
import type { Db } from '../../data/db.js';
import { Params, compileWhere } from './compile.js';

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

// Footers filtered by date, status and channel only (migration 0030) -------------------------

/** Fields order_daily_totals can answer for: status and channel are its columns (same names as on orders). */
const DIMENSIONS = new Set(['status', 'channel', 'refunded']);

/** Each date operator as the range [lo, hi) of order_date it keeps (SQL over bound parameters). */
function dateRange(rule: FilterRule, p: Params): { lo?: string; hi?: string } | null {
  const v = rule.value;
  const instant = (value: string) => p.add(value.length === 10 ? `${value}T00:00:00Z` : value, 'timestamptz');
  const endOf = (value: string) =>
    value.length === 10
      ? p.add(new Date(Date.parse(`${value}T00:00:00Z`) + 86_400_000).toISOString(), 'timestamptz')
      : p.add(value, 'timestamptz');
  const daysAgo = () => `now() - make_interval(days => ${p.add(v, 'integer')})`;
  switch (rule.operator) {
    case 'before':
      return { hi: instant(String(v)) };
    case 'after':
      return { lo: endOf(String(v)) };
    case 'on':
      return { lo: instant(String(v).slice(0, 10)), hi: endOf(String(v).slice(0, 10)) };
    case 'between': {
      const [from, to] = (v as [string, string]).slice().sort();
      return { lo: instant(from), hi: endOf(to) };
    }
    case 'in_last':
      return { lo: daysAgo() };
    case 'not_in_last': // order_date is never null
    case 'before_days_ago':
      return { hi: daysAgo() };
    default:
      return null;
  }
}

/**
 * Splits a filter into the order-date rules and the rest, when the rest names only status,
 * channel and refunded (OR groups of those too); null when the filter needs the orders themselves.
 */
function splitFilter(group: FilterGroup): { dates: FilterRule[]; dims: FilterGroup } | null {
  const onlyDims = (node: FilterRule | FilterGroup): boolean =>
    isFilterGroup(node) ? node.rules.every(onlyDims) : DIMENSIONS.has(node.field);
  if (group.op !== 'and' && group.rules.length > 1)
    return onlyDims(group) ? { dates: [], dims: group } : null;
  const dates: FilterRule[] = [];
  const dims: (FilterRule | FilterGroup)[] = [];
  for (const node of group.rules) {
    if (!isFilterGroup(node) && node.field === 'orderDate') dates.push(node);
    else if (onlyDims(node)) dims.push(node);
    else if (isFilterGroup(node)) {
      const inner = splitFilter(node);
      if (!inner) return null;
      dates.push(...inner.dates);
      dims.push(inner.dims);
    } else return null;
  }
  return { dates, dims: { op: 'and', rules: dims } };
}

const INFINITE = new Set(['infinity', '-infinity']);

/**
 * The footer of orders filtered by date range, status and channel only, from order_daily_totals:
 * the whole UTC days of the range summed from the totals, the partial days at its ends read from
 * the orders (an index range each). Exactly what a scan returns: the count, the sum and the rounded
 * average of the totals, in one snapshot. Null when the filter is not of that kind.
 */
export async function dailyOrderTotals(db: Db, filter: FilterGroup): Promise<ListSummary | null> {
  const split = splitFilter(filter);
  if (!split) return null;
  // The range [lo, hi) the date rules keep, and the whole days [a, z) inside it, in the database's clock.
  const p = new Params();
  const ranges = split.dates.map((rule) => dateRange(rule, p));
  if (ranges.some((r) => r === null)) return null;
  const los = ranges.flatMap((r) => (r?.lo ? [r.lo] : []));
  const his = ranges.flatMap((r) => (r?.hi ? [r.hi] : []));
  const [b] = await db.query<{
    lo: string;
    hi: string;
    a: string;
    z: string;
    whole: boolean;
    head: boolean;
    tail: boolean;
    nonempty: boolean;
  }>(
    `WITH r AS (SELECT ${los.length ? `greatest(${los.join(', ')})` : `'-infinity'::timestamptz`} AS lo,
                       ${his.length ? `least(${his.join(', ')})` : `'infinity'::timestamptz`} AS hi),
          d AS (SELECT lo, hi,
                       CASE WHEN isfinite(lo) THEN date_trunc('day', lo AT TIME ZONE 'UTC')
                            + CASE WHEN date_trunc('day', lo AT TIME ZONE 'UTC') = lo AT TIME ZONE 'UTC' THEN interval '0' ELSE interval '1 day' END
                       END AS a,
                       CASE WHEN isfinite(hi) THEN date_trunc('day', hi AT TIME ZONE 'UTC') END AS z
                  FROM r)
     SELECT lo::text, hi::text, coalesce((a AT TIME ZONE 'UTC')::text, lo::text) AS a,
            coalesce((z AT TIME ZONE 'UTC')::text, hi::text) AS z,
            coalesce(a, '-infinity') < coalesce(z, 'infinity') AS whole,
            lo < coalesce(a AT TIME ZONE 'UTC', lo) AS head, coalesce(z AT TIME ZONE 'UTC', hi) < hi AS tail,
            lo < hi AS nonempty
       FROM d`,
    p.values
  );
  const dims = compileWhere('orders', { filter: split.dims });
  const q = new Params(dims.params.length + 1);
  const parts: string[] = [];
  const scan = (from: string, to: string) => {
    const range = [
      ...(INFINITE.has(from) ? [] : [`o.order_date >= ${q.add(from, 'timestamptz')}`]),
      ...(INFINITE.has(to) ? [] : [`o.order_date < ${q.add(to, 'timestamptz')}`])
    ];
    parts.push(
      `SELECT count(*) AS n, sum(o.total) AS t FROM orders o WHERE ${dims.sql}${range.map((c) => ` AND ${c}`).join('')}`
    );
  };
  if (b.whole) {
    const days = [
      ...(INFINITE.has(b.a) ? [] : [`o.day >= (${q.add(b.a, 'timestamptz')} AT TIME ZONE 'UTC')::date`]),
      ...(INFINITE.has(b.z) ? [] : [`o.day < (${q.add(b.z, 'timestamptz')} AT TIME ZONE 'UTC')::date`])
    ];
    parts.push(
      `SELECT sum(o.orders) AS n, sum(o.total) AS t FROM order_daily_totals o WHERE ${dims.sql}${days.map((c) => ` AND ${c}`).join('')}`
    );
    if (b.head) scan(b.lo, b.a);
    if (b.tail) scan(b.z, b.hi);
  } else if (b.nonempty) {
    scan(b.lo, b.hi);
  }
  if (parts.length === 0) return { count: 0, sums: { total: '0.00' }, averages: {} };
  const [row] = await db.query<{ count: string; sum: string; avg: string | null }>(
    `SELECT coalesce(sum(n), 0)::bigint::text AS count, coalesce(sum(t), 0)::numeric(20, 2)::text AS sum,
            round(sum(t) / nullif(sum(n), 0), 2)::numeric(20, 2)::text AS avg
       FROM (${parts.join(' UNION ALL ')}) x`,
    [...dims.params, ...q.values]
  );
  return {
    count: Number(row.count),
    sums: { total: row.sum },
    averages: row.avg === null ? {} : { total: row.avg }
  };
}

/** Folds the per-day deltas (also after each background rollup refresh). */
export async function compactOrderDailyTotals(db: Db): Promise<void> {
  await db.query(`SELECT compact_order_daily_totals()`);
}
