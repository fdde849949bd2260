import type {
  ResolvedRange,
  SalesPoint,
  SalesReport,
  SeriesRange,
  TopCategoriesReport,
  TopProductsReport
} from '#shared/schemas/analytics.js';
import { formatHundredths, toHundredths } from '#shared/rules/money.js';
import type { Db } from '../../data/db.js';
import { boundariesOf, bucketsOf } from './range.js';
import { COUNTED } from '../sql.js';

const aovOf = (orders: number, cents: number) =>
  orders === 0 ? null : formatHundredths(Math.round(cents / orders));
const percentOf = (part: number, whole: number) => (whole === 0 ? 0 : Math.round((part * 1000) / whole) / 10);

/**
 * Revenue, orders, AOV, new and returning customers per bucket. Orders and revenue come from
 * sales_daily; new customers from each customer's first order (customer_order_stats); returning
 * customers are the bucket's distinct buyers less its new ones (a new customer always buys in the
 * bucket of their first order): distinct buyers per whole month from customer_monthly, per day,
 * week or partial month from the orders themselves.
 */
export async function salesReport(db: Db, range: SeriesRange): Promise<SalesReport> {
  const spans = bucketsOf(range);
  const tz = range.timezone;
  const rows = await db.query<{ orders: number; revenue: string; new_customers: number }>(
    `SELECT (SELECT coalesce(sum(s.orders), 0) FROM sales_daily s WHERE s.day BETWEEN b.first_day AND b.last_day)::int AS orders,
            (SELECT coalesce(sum(s.revenue), 0) FROM sales_daily s WHERE s.day BETWEEN b.first_day AND b.last_day)::text AS revenue,
            (SELECT count(*) FROM customer_order_stats c
              WHERE c.first_order_at >= (b.first_day::timestamp AT TIME ZONE $3)
                AND c.first_order_at < ((b.last_day + 1)::timestamp AT TIME ZONE $3))::int AS new_customers
       FROM unnest($1::date[], $2::date[]) WITH ORDINALITY AS b(first_day, last_day, n)
      ORDER BY b.n`,
    [spans.map((s) => s.from), spans.map((s) => s.to), tz]
  );

  const buyers = new Array<number>(spans.length).fill(0);
  const wholeMonths =
    range.bucket === 'month' ? spans.map((s, i) => ({ s, i })).filter(({ s }) => s.whole) : [];
  if (wholeMonths.length > 0) {
    const counts = await db.query<{ month: string; buyers: number }>(
      `SELECT month::text, count(*)::int AS buyers FROM customer_monthly WHERE month = ANY($1::date[]) GROUP BY month`,
      [wholeMonths.map(({ s }) => s.bucket)]
    );
    const byMonth = new Map(counts.map((c) => [c.month, c.buyers]));
    for (const { s, i } of wholeMonths) buyers[i] = byMonth.get(s.bucket) ?? 0;
  }
  // Everything else from the orders, in runs of consecutive buckets (one index range scan each).
  const raw = spans.map((s, i) => ({ s, i })).filter(({ s }) => !(range.bucket === 'month' && s.whole));
  for (const run of consecutive(raw)) {
    const bounds = await boundariesOf(
      db,
      run.map(({ s }) => s),
      tz
    );
    const counts = await db.query<{ n: number; buyers: number }>(
      `SELECT width_bucket(order_date, $3::timestamptz[]) AS n, count(DISTINCT customer_id)::int AS buyers
         FROM orders WHERE order_date >= $1 AND order_date < $2 AND ${COUNTED} GROUP BY 1`,
      [bounds[0], bounds.at(-1), bounds]
    );
    for (const c of counts) buyers[run[c.n - 1].i] = c.buyers;
  }

  const points: SalesPoint[] = spans.map((s, i) => {
    const cents = toHundredths(rows[i].revenue);
    return {
      bucket: s.bucket,
      from: s.from,
      to: s.to,
      orders: rows[i].orders,
      revenue: formatHundredths(cents),
      aov: aovOf(rows[i].orders, cents),
      newCustomers: rows[i].new_customers,
      returningCustomers: buyers[i] - rows[i].new_customers
    };
  });
  const orders = points.reduce((n, p) => n + p.orders, 0);
  const cents = points.reduce((n, p) => n + toHundredths(p.revenue), 0);
  return {
    range,
    points,
    totals: {
      orders,
      revenue: formatHundredths(cents),
      aov: aovOf(orders, cents),
      newCustomers: points.reduce((n, p) => n + p.newCustomers, 0)
    }
  };
}

function consecutive<T extends { i: number }>(items: T[]): T[][] {
  const runs: T[][] = [];
  for (const item of items) {
    const run = runs.at(-1);
    if (run && run.at(-1)!.i === item.i - 1) run.push(item);
    else runs.push([item]);
  }
  return runs;
}

async function rangeRevenue(db: Db, range: ResolvedRange): Promise<number> {
  const [row] = await db.query<{ revenue: string }>(
    `SELECT coalesce(sum(revenue), 0)::text AS revenue FROM sales_daily WHERE day BETWEEN $1 AND $2`,
    [range.from, range.to]
  );
  return toHundredths(row.revenue);
}

/** Best-selling products by revenue over the range (from product_sales_daily). */
export async function topProducts(db: Db, range: ResolvedRange, limit: number): Promise<TopProductsReport> {
  const total = await rangeRevenue(db, range);
  const rows = await db.query<{
    product_id: number;
    sku: string;
    name: string;
    category_id: number | null;
    category: string | null;
    units: number;
    orders: number;
    revenue: string;
  }>(
    `SELECT p.id AS product_id, p.sku, p.name, c.id AS category_id, c.name AS category,
            sum(d.units)::int AS units, sum(d.orders)::int AS orders, sum(d.revenue)::text AS revenue
       FROM product_sales_daily d JOIN products p ON p.id = d.product_id LEFT JOIN categories c ON c.id = p.category_id
      WHERE d.day BETWEEN $1 AND $2
      GROUP BY p.id, c.id
      ORDER BY sum(d.revenue) DESC, p.id
      LIMIT $3`,
    [range.from, range.to, limit]
  );
  return {
    range,
    revenue: formatHundredths(total),
    products: rows.map((r) => ({
      productId: r.product_id,
      sku: r.sku,
      name: r.name,
      categoryId: r.category_id,
      category: r.category,
      units: r.units,
      orders: r.orders,
      revenue: formatHundredths(toHundredths(r.revenue)),
      share: percentOf(toHundredths(r.revenue), total)
    }))
  };
}

/** Categories by revenue over the range (a product's current category). */
export async function topCategories(
  db: Db,
  range: ResolvedRange,
  limit: number
): Promise<TopCategoriesReport> {
  const total = await rangeRevenue(db, range);
  const rows = await db.query<{
    category_id: number | null;
    category: string | null;
    products: number;
    units: number;
    revenue: string;
  }>(
    `WITH per_product AS (
       SELECT product_id, sum(units) AS units, sum(revenue) AS revenue FROM product_sales_daily WHERE day BETWEEN $1 AND $2 GROUP BY product_id
     )
     SELECT c.id AS category_id, c.name AS category, count(*)::int AS products, sum(pp.units)::int AS units, sum(pp.revenue)::text AS revenue
       FROM per_product pp JOIN products p ON p.id = pp.product_id LEFT JOIN categories c ON c.id = p.category_id
      GROUP BY c.id
      ORDER BY sum(pp.revenue) DESC, c.id NULLS LAST
      LIMIT $3`,
    [range.from, range.to, limit]
  );
  return {
    range,
    revenue: formatHundredths(total),
    categories: rows.map((r) => ({
      categoryId: r.category_id,
      category: r.category ?? 'Uncategorised',
      products: r.products,
      units: r.units,
      revenue: formatHundredths(toHundredths(r.revenue)),
      share: percentOf(toHundredths(r.revenue), total)
    }))
  };
}
