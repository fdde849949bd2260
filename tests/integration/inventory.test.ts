import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import type { RunningPulse } from '../../server/pulse.js';
import { createOrder, createWorld } from '../support/fixtures.js';
import { Browser } from '../support/http.js';
import { startTestServer } from '../support/server.js';
import { closeSockets, connectSocket, openSocket, received, waitFor, whenReady } from '../support/socket.js';

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

  it('takes a shop’s sale beyond the stock: the shortfall is received first, saying so, and stock ends at zero', async () => {
    const a = await product(2);
    const b = await product(10);
    const id = await createOrder(db.sql, {
      customerId: world.customerId,
      total: 10,
      externalId: 'shop-1001'
    });
    await db.sql.query(
      `INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES ($1, $2, 3, 5), ($1, $3, 1, 5)`,
      [id, a, b]
    );
    await setStatus(id, 'paid');
    const { rows } = await db.sql.query<{ kind: string; quantity: number; reason: string }>(
      `SELECT kind::text, quantity, reason FROM stock_movements WHERE product_id = $1 ORDER BY id`,
      [a]
    );
    expect(rows.map((r) => [r.kind, r.quantity])).toEqual([
      ['adjust', 2],
      ['receive', 1],
      ['sell', -3]
    ]);
    expect(rows[1].reason).toContain('shop-1001');
    expect(await stockOf(a)).toMatchObject({ stock: 0, sum: 0, state: 'out' });
    expect(await stockOf(b)).toMatchObject({ stock: 9, sum: 9 });
    // Paid again (a redelivery), nothing more moves.
    await setStatus(id, 'fulfilled');
    expect(await stockOf(a)).toMatchObject({ stock: 0, sum: 0 });
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

describe('the product API and its live room', () => {
  let server: RunningPulse;
  let manager: Browser;
  let agent: Browser;

  beforeAll(async () => {
    server = await startTestServer(db.url);
    manager = await Browser.signedIn(server.url, world.manager.email);
    agent = await Browser.signedIn(server.url, world.agentA.email);
  });
  afterAll(async () => {
    closeSockets();
    await server?.close();
  });

  it('shows a product with its stock state, movements, 90 days of sales and its rating', async () => {
    const id = await product(9, 5);
    const paid = await order([[id, 3]], 'paid');
    const page = await agent.getOk(`/api/products/${id}`);
    expect(page.product).toMatchObject({ id, stock: 6, lowStockThreshold: 5, stockState: 'in_stock' });
    expect(page.movements.map((m: any) => [m.kind, m.quantity, m.orderId])).toEqual([
      ['sell', -3, paid],
      ['adjust', 9, null]
    ]);
    expect(page.sales).toHaveLength(90);
    expect(page.sales.at(-1)).toMatchObject({ units: 3, revenue: '15.00' });
    expect(page.sales.reduce((s: number, d: any) => s + d.units, 0)).toBe(3);
    expect(page.rating).toEqual({ count: 0, average: null, histogram: [0, 0, 0, 0, 0] });
    expect((await agent.get('/api/products/987654')).status).toBe(404);
  });

  it('pages movements by keyset, without overlap', async () => {
    const id = await product(1);
    for (let i = 0; i < 60; i++)
      await db.sql.query(
        `INSERT INTO stock_movements (product_id, kind, quantity, reason) VALUES ($1, 'receive', 1, 'Delivery')`,
        [id]
      );
    const first = await agent.getOk(`/api/products/${id}`);
    expect(first.movements).toHaveLength(50);
    const rest = await agent.getOk(`/api/products/${id}/stock-movements?cursor=${first.nextMovementsCursor}`);
    expect(rest.nextCursor).toBeNull();
    const ids = [...first.movements, ...rest.movements].map((m: any) => m.id);
    expect(new Set(ids).size).toBe(61);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect((await agent.get(`/api/products/${id}/stock-movements?cursor=bm90LWpzb24`)).status).toBe(400);
  });

  it('lets managers receive and adjust stock (audited), not agents; refuses stock below zero', async () => {
    const id = await product(2);
    const refused = await agent.post(`/api/products/${id}/stock-movements`, {
      kind: 'receive',
      quantity: 5,
      reason: 'Delivery'
    });
    expect(refused.status).toBe(403);
    const bad = await manager.post(`/api/products/${id}/stock-movements`, {
      kind: 'receive',
      quantity: -5,
      reason: 'x'
    });
    expect(bad.status).toBe(400);
    const sell = await manager.post(`/api/products/${id}/stock-movements`, {
      kind: 'sell',
      quantity: -1,
      reason: 'x'
    });
    expect(sell.status).toBe(400);
    const below = await manager.post(`/api/products/${id}/stock-movements`, {
      kind: 'adjust',
      quantity: -3,
      reason: 'Broken'
    });
    expect(below.status).toBe(422);
    const ok = await manager.post(`/api/products/${id}/stock-movements`, {
      kind: 'receive',
      quantity: 5,
      reason: 'Delivery'
    });
    expect(ok.status).toBe(201);
    expect(ok.body.movement).toMatchObject({
      kind: 'receive',
      quantity: 5,
      actorUserId: world.manager.id,
      actorName: 'Manager M'
    });
    expect(ok.body.product).toMatchObject({ stock: 7, stockState: 'in_stock' });
    const { rows } = await db.sql.query(
      `SELECT action, details->>'reason' AS reason FROM audit_log WHERE target_type = 'product' AND target_id = $1`,
      [String(id)]
    );
    expect(rows).toEqual([{ action: 'stock.moved', reason: 'Delivery' }]);
    expect(await stockOf(id)).toMatchObject({ stock: 7, sum: 7 });
  });

  it('changes the threshold against the version seen: an older version is a 409', async () => {
    const id = await product(8);
    const { product: before } = await agent.getOk(`/api/products/${id}`);
    expect(
      (
        await agent.request('PATCH', `/api/products/${id}`, {
          version: before.version,
          lowStockThreshold: 10
        })
      ).status
    ).toBe(403);
    const ok = await manager.request('PATCH', `/api/products/${id}`, {
      version: before.version,
      lowStockThreshold: 10
    });
    expect(ok.status).toBe(200);
    expect(ok.body.product).toMatchObject({
      lowStockThreshold: 10,
      stockState: 'low',
      version: before.version + 1
    });
    const stale = await manager.request('PATCH', `/api/products/${id}`, {
      version: before.version,
      lowStockThreshold: 2
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('stale_version');
    expect(
      (await manager.request('PATCH', '/api/products/987654', { version: 1, active: false })).status
    ).toBe(404);
  });

  it('flips the low-stock flag live: a sale in psql reaches the product room as a movement and the product', async () => {
    const id = await product(7, 5);
    const other = await product(7, 5);
    const socket = await openSocket(server.url, agent);
    expect(await socket.timeout(5000).emitWithAck('product:watch', id)).toEqual({ data: { ok: true } });
    expect(await socket.timeout(5000).emitWithAck('product:watch', 987654)).toMatchObject({
      error: { code: 'not_found' }
    });
    await order([[other, 1]], 'paid'); // another product's room: not sent here
    const paid = await order([[id, 3]]);
    await setStatus(paid, 'paid');
    const moved = await waitFor(socket, 'stock:moved', (e: any) => e.data.orderId === paid);
    expect(moved.data).toMatchObject({ productId: id, kind: 'sell', quantity: -3 });
    const updated = await waitFor(
      socket,
      'product:updated',
      (e: any) => e.data.id === id && e.data.stock === 4
    );
    expect(updated.data.stockState).toBe('low');
    expect(updated.old).toMatchObject({ stock: 7, stockState: 'in_stock' });
    expect(received(socket, 'stock:moved').every((e: any) => e.data.productId === id)).toBe(true);

    // A socket that asks for the room in its handshake is replayed what it missed since its horizon.
    const horizon = updated.horizon;
    await db.sql.query(
      `INSERT INTO stock_movements (product_id, kind, quantity, reason) VALUES ($1, 'receive', 10, 'Delivery')`,
      [id]
    );
    const resumed = connectSocket(server.url, agent.cookie, { horizon, watch: { products: [id] } });
    await whenReady(resumed);
    const receipt = await waitFor(
      resumed,
      'stock:moved',
      (e: any) => e.data.kind === 'receive' && e.data.productId === id
    );
    expect(receipt.data.quantity).toBe(10);
    const back = await waitFor(
      resumed,
      'product:updated',
      (e: any) => e.data.id === id && e.data.stock === 14
    );
    expect(back.data.stockState).toBe('in_stock');
  });
});
