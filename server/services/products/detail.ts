import type { ProductDetail, RatingSummary, SalesDay, StockMovement } from '#shared/schemas/inventory.js';
import { money } from '#shared/rules/money.js';
import type { Db } from '../../data/db.js';
import { notFound } from '../../errors.js';
import { camelKeys } from '../../presenters/camel-keys.js';
import { presentProduct, presentStockMovement } from '../../presenters/inventory.js';
import { decodeCursor, encodeCursor, isId } from './cursor.js';

const MOVEMENTS_PAGE = 50;
const SALES_DAYS = 90;

/** The product page: the product, its latest movements, 90 days of sales and its rating summary. */
export async function productDetail(db: Db, productId: number): Promise<ProductDetail> {
  const [row] = await db.query(
    `SELECT p.*, c.name AS category FROM products p LEFT JOIN categories c ON c.id = p.category_id WHERE p.id = $1`,
    [productId]
  );
  if (!row) throw notFound('Product');
  const [movements, sales, rating] = await Promise.all([
    stockMovements(db, productId),
    salesSeries(db, productId),
    ratingSummary(db, productId)
  ]);
  const d = camelKeys(row);
  return {
    product: {
      ...presentProduct(d),
      description: String(d.description ?? ''),
      category: (d.category as string | null) ?? null
    },
    movements: movements.movements,
    nextMovementsCursor: movements.nextCursor,
    sales,
    rating
  };
}

/** A product's movements, newest first, keyset-paginated by id. */
export async function stockMovements(
  db: Db,
  productId: number,
  cursor?: string
): Promise<{ movements: StockMovement[]; nextCursor: string | null }> {
  const before = cursor ? decodeCursor(cursor, (k): k is [number] => k.length === 1 && isId(k[0]))[0] : null;
  const rows = await db.query(
    `SELECT m.id, m.product_id, m.kind::text AS kind, m.quantity, m.reason, m.order_id, m.actor_user_id, m.at,
            u.name AS actor_name
       FROM stock_movements m LEFT JOIN users u ON u.id = m.actor_user_id
      WHERE m.product_id = $1 AND ($2::bigint IS NULL OR m.id < $2)
      ORDER BY m.id DESC LIMIT $3`,
    [productId, before, MOVEMENTS_PAGE + 1]
  );
  const page = rows.slice(0, MOVEMENTS_PAGE).map((r) => presentStockMovement(camelKeys(r)));
  return {
    movements: page,
    nextCursor: rows.length > MOVEMENTS_PAGE ? encodeCursor([page.at(-1)!.id]) : null
  };
}

/**
 * Units and revenue per UTC day of the last 90 days, from the orders themselves (so the demo's
 * history counts too): orders that went through, not pending, cancelled or refunded ones.
 */
async function salesSeries(db: Db, productId: number): Promise<SalesDay[]> {
  const rows = await db.query<{ day: string; units: number; revenue: string }>(
    `SELECT d.day::date::text AS day, coalesce(s.units, 0)::int AS units, coalesce(s.revenue, 0)::text AS revenue
       FROM generate_series((now() AT TIME ZONE 'UTC')::date - ($2::int - 1), (now() AT TIME ZONE 'UTC')::date, interval '1 day') AS d(day)
       LEFT JOIN (
         SELECT (o.order_date AT TIME ZONE 'UTC')::date AS day, sum(i.quantity) AS units, sum(i.quantity * i.unit_price) AS revenue
           FROM order_items i JOIN orders o ON o.id = i.order_id
          WHERE i.product_id = $1 AND order_holds_stock(o.status)
            AND o.order_date >= (now() AT TIME ZONE 'UTC')::date - ($2::int - 1)
          GROUP BY 1
       ) s ON s.day = d.day::date
      ORDER BY d.day`,
    [productId, SALES_DAYS]
  );
  return rows.map((r) => ({ day: r.day, units: Number(r.units), revenue: money(r.revenue) }));
}

/** Count, average and a histogram of one to five stars: the histogram sums to the count. */
export async function ratingSummary(db: Db, productId: number): Promise<RatingSummary> {
  const rows = await db.query<{ rating: number; n: number }>(
    `SELECT rating, count(*)::int AS n FROM reviews WHERE product_id = $1 GROUP BY rating`,
    [productId]
  );
  const histogram: RatingSummary['histogram'] = [0, 0, 0, 0, 0];
  let sum = 0;
  for (const r of rows) {
    histogram[Number(r.rating) - 1] = Number(r.n);
    sum += Number(r.rating) * Number(r.n);
  }
  const count = histogram.reduce((a, b) => a + b, 0);
  // Hundredths in integers, so "4.25" is exact.
  const average = count === 0 ? null : (Math.round((sum * 100) / count) / 100).toFixed(2);
  return { count, average, histogram };
}
