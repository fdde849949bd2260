import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createOrder, createWorld } from '../support/fixtures.js';

// Stock is the sum of its movements, whoever writes: orders move it once per transition, a
// session cannot write it directly, movements cannot be rewritten.

let db: TestDatabase;
let world: Awaited<ReturnType<typeof createWorld>>;
let skuSeq = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
});
afterAll(async () => {
  await db?.drop();
});

async function product(stock: number, threshold = 5): Promise<number> {
  const { rows } = await db.sql.query<{ id: number }>(
    `INSERT INTO products (sku, name, price, stock, low_stock_threshold) VALUES ($1, 'Widget', 10, $2, $3) RETURNING id`,
    [`INV-${++skuSeq}`, stock, threshold]
  );
  return rows[0].id;
}

/** An order with the given lines, in `status`; items inserted after the order, as a shop does. */
async function order(lines: [productId: number, quantity: number][], status = 'pending') {
  const id = await createOrder(db.sql, { customerId: world.customerId, total: 10, status });
  await db.sql.query(
    `INSERT INTO order_items (order_id, product_id, quantity, unit_price)
     SELECT $1, p, q, 5 FROM unnest($2::int[], $3::int[]) AS x(p, q)`,
    [id, lines.map((l) => l[0]), lines.map((l) => l[1])]
  );
  return id;
}

const setStatus = (id: number, status: string, sql: pg.Pool | pg.PoolClient = db.sql) =>
  sql.query(`UPDATE orders SET status = $2::order_status WHERE id = $1`, [id, status]);

async function stockOf(productId: number) {
  const { rows } = await db.sql.query<{ stock: number; sum: number; state: string }>(
    `SELECT p.stock, (SELECT coalesce(sum(quantity), 0)::int FROM stock_movements m WHERE m.product_id = p.id) AS sum,
            product_stock_state(p.stock, p.low_stock_threshold) AS state
       FROM products p WHERE p.id = $1`,
    [productId]
  );
  return rows[0];
}

async function movementsOf(orderId: number) {
  const { rows } = await db.sql.query<{ kind: string; product_id: number; quantity: number }>(
    `SELECT kind::text, product_id, quantity FROM stock_movements WHERE order_id = $1 ORDER BY id`,
    [orderId]
  );
  return rows;
}

describe('stock movements', () => {
  it('records a new product’s stock as its opening movement', async () => {
    const id = await product(12);
    expect(await stockOf(id)).toEqual({ stock: 12, sum: 12, state: 'in_stock' });
    const { rows } = await db.sql.query(
      `SELECT kind::text, quantity, reason FROM stock_movements WHERE product_id = $1`,
      [id]
    );
    expect(rows).toEqual([{ kind: 'adjust', quantity: 12, reason: 'Opening stock' }]);
  });

  it('refuses a direct write of products.stock, even with the apply setting forged', async () => {
    const id = await product(4);
    const client = await db.sql.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL pulse.stock_apply = 'on'`);
      const error = await client
        .query(`UPDATE products SET stock = 40 WHERE id = $1`, [id])
        .catch((e: pg.DatabaseError) => e);
      expect(error).toMatchObject({ code: '23514', constraint: 'products_stock_movements_only' });
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect(await stockOf(id)).toEqual({ stock: 4, sum: 4, state: 'low' });
    // A change of anything else is still fine.
    await db.sql.query(`UPDATE products SET name = 'Renamed', stock = stock WHERE id = $1`, [id]);
  });

  it('keeps movements append-only: no UPDATE, DELETE or TRUNCATE', async () => {
    const id = await product(3);
    for (const statement of [
      `UPDATE stock_movements SET quantity = 300 WHERE product_id = ${id}`,
      `DELETE FROM stock_movements WHERE product_id = ${id}`,
      `TRUNCATE stock_movements`
    ]) {
      await expect(db.sql.query(statement)).rejects.toMatchObject({ code: '23001' });
    }
    expect(await stockOf(id)).toEqual({ stock: 3, sum: 3, state: 'low' });
  });

  it('checks the sign of each kind', async () => {
    const id = await product(3);
    for (const [kind, quantity] of [
      ['receive', -1],
      ['adjust', 0],
      ['sell', 1]
    ] as const) {
      await expect(
        db.sql.query(
          `INSERT INTO stock_movements (product_id, kind, quantity, reason) VALUES ($1, $2, $3, 'x')`,
          [id, kind, quantity]
        )
      ).rejects.toMatchObject({ code: '23514' });
    }
    await db.sql.query(
      `INSERT INTO stock_movements (product_id, kind, quantity, reason) VALUES ($1, 'receive', 7, 'Delivery')`,
      [id]
    );
    expect(await stockOf(id)).toEqual({ stock: 10, sum: 10, state: 'in_stock' });
  });
});

describe('orders move stock', () => {
  it('sells when paid and returns when refunded, once however often the status is written', async () => {
    const a = await product(10);
    const b = await product(10);
    const id = await order([
      [a, 2],
      [b, 3]
    ]);
    expect(await movementsOf(id)).toEqual([]);
    await setStatus(id, 'paid');
    await setStatus(id, 'fulfilled');
    await setStatus(id, 'paid'); // a correction written by hand
    expect(await movementsOf(id)).toEqual([
      { kind: 'sell', product_id: a, quantity: -2 },
      { kind: 'sell', product_id: b, quantity: -3 }
    ]);
    expect((await stockOf(a)).stock).toBe(8);
    await setStatus(id, 'refunded');
    await setStatus(id, 'cancelled');
    await setStatus(id, 'refunded');
    expect((await movementsOf(id)).filter((m) => m.kind === 'return')).toEqual([
      { kind: 'return', product_id: a, quantity: 2 },
      { kind: 'return', product_id: b, quantity: 3 }
    ]);
    // Refunded goods are not sold a second time by a status written back.
    await setStatus(id, 'paid');
    expect(await movementsOf(id)).toHaveLength(4);
    expect(await stockOf(a)).toMatchObject({ stock: 10, sum: 10 });
    expect(await stockOf(b)).toMatchObject({ stock: 10, sum: 10 });
  });

  it('sells an order created paid as its items arrive; a pending order cancelled moves nothing', async () => {
    const a = await product(5);
    const paid = await order([[a, 1]], 'paid');
    expect(await movementsOf(paid)).toEqual([{ kind: 'sell', product_id: a, quantity: -1 }]);
    const pending = await order([[a, 1]]);
    await setStatus(pending, 'cancelled');
    expect(await movementsOf(pending)).toEqual([]);
    expect(await stockOf(a)).toMatchObject({ stock: 4, sum: 4, state: 'low' });
  });

  it('refuses a sale beyond the stock: the order stays unpaid and nothing moves', async () => {
    const a = await product(2);
    const id = await order([[a, 3]]);
    await expect(setStatus(id, 'paid')).rejects.toMatchObject({
      code: '23514',
      constraint: 'products_stock_check'
    });
    expect(await movementsOf(id)).toEqual([]);
    const { rows } = await db.sql.query(`SELECT status::text FROM orders WHERE id = $1`, [id]);
    expect(rows[0].status).toBe('pending');
    expect(await stockOf(a)).toMatchObject({ stock: 2, sum: 2 });
  });

  it('keeps stock equal to the sum of movements under 8 concurrent writers', async () => {
    const products = [await product(400), await product(400), await product(400)];
    const orders: number[] = [];
    for (let i = 0; i < 48; i++) {
      // Lines in different product orders, so lock order matters.
      const lines: [number, number][] = (i % 2 ? [...products].reverse() : products).map((p, k) => [
        p,
        1 + ((i + k) % 3)
      ]);
      orders.push(await order(lines));
    }
    const pool = new pg.Pool({ connectionString: db.url, max: 8 });
    try {
      const work = orders.map(async (id, i) => {
        // Each order is paid twice (a replayed webhook), then half refunded, a quarter cancelled.
        await Promise.all([setStatus(id, 'paid', pool), setStatus(id, 'paid', pool)]);
        if (i % 2 === 0)
          await Promise.all([setStatus(id, 'refunded', pool), setStatus(id, 'refunded', pool)]);
        else if (i % 4 === 1) await setStatus(id, 'cancelled', pool);
      });
      await Promise.all(work);
    } finally {
      await pool.end();
    }
    const { rows: perOrder } = await db.sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM stock_movements WHERE order_id = ANY($1) GROUP BY order_item_id, kind HAVING count(*) > 1`,
      [orders]
    );
    expect(perOrder).toEqual([]);
    const kept = orders.filter((_, i) => i % 2 === 1 && i % 4 !== 1);
    const { rows: expected } = await db.sql.query<{ product_id: number; sold: number }>(
      `SELECT product_id, sum(quantity)::int AS sold FROM order_items WHERE order_id = ANY($1) GROUP BY product_id ORDER BY product_id`,
      [kept]
    );
    for (const { product_id, sold } of expected) {
      expect(await stockOf(product_id)).toMatchObject({ stock: 400 - sold, sum: 400 - sold });
    }
  });
});
