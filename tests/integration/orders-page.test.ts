import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPulse } from '../../server/pulse.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import {
  createLoyaltyAccount,
  createOrder,
  createTicket,
  createWorld,
  earnPoints
} from '../support/fixtures.js';
import { Browser, expectErrorShape } from '../support/http.js';
import { startTestServer } from '../support/server.js';
import { closeSockets, openSocket, waitFor } from '../support/socket.js';

// The order page: what GET /api/orders/:id shows, who sees what, and refunds through the existing
// action moving stock, points and the status history at once.

let db: TestDatabase;
let server: RunningPulse;
let world: Awaited<ReturnType<typeof createWorld>>;
let as: Record<'agentA' | 'agentB' | 'manager', Browser>;
let orderId: number;
let kettle: number;
let mug: number;
let ticketA: number;
let ticketB: number;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  server = await startTestServer(db.url);
  as = {
    agentA: await Browser.signedIn(server.url, world.agentA.email),
    agentB: await Browser.signedIn(server.url, world.agentB.email),
    manager: await Browser.signedIn(server.url, world.manager.email)
  };
  const { rows } = await db.sql.query<{ id: number }>(
    `INSERT INTO products (sku, name, price, stock) VALUES ('KET-1', 'Kettle', 30, 10), ('MUG-1', 'Mug', 7.5, 4) RETURNING id`
  );
  [kettle, mug] = rows.map((r) => r.id);
  orderId = await createOrder(db.sql, {
    customerId: world.customerId,
    total: '67.50',
    externalId: 'WEB-5001'
  });
  await db.sql.query(
    `INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES ($1, $2, 2, 30), ($1, $3, 1, 7.5)`,
    [orderId, kettle, mug]
  );
  await db.sql.query(`UPDATE orders SET status = 'paid' WHERE id = $1`, [orderId]);
  const account = await createLoyaltyAccount(db.sql, world.customerId);
  await earnPoints(db.sql, {
    accountId: account,
    points: 67,
    reason: 'Order',
    key: `order:${orderId}`,
    orderId
  });
  ticketA = await createTicket(db.sql, {
    customerId: world.customerId,
    teamId: world.teamA,
    subject: 'Where is my kettle'
  });
  ticketB = await createTicket(db.sql, {
    customerId: world.customerId,
    teamId: world.teamB,
    subject: 'Other team'
  });
  await db.sql.query(`UPDATE tickets SET order_id = $1 WHERE id = ANY($2)`, [orderId, [ticketA, ticketB]]);
});
afterAll(async () => {
  closeSockets();
  await server?.close();
  await db?.drop();
});

describe('GET /api/orders/:id', () => {
  it('shows items with product links, totals, history, customer, tickets and points', async () => {
    const page = await as.manager.getOk(`/api/orders/${orderId}`);
    expect(page.order).toMatchObject({
      id: orderId,
      status: 'paid',
      total: '67.50',
      subtotal: '67.50',
      externalId: 'WEB-5001'
    });
    expect(page.items).toEqual([
      expect.objectContaining({
        productId: kettle,
        sku: 'KET-1',
        quantity: 2,
        unitPrice: '30.00',
        lineTotal: '60.00',
        sold: 2,
        returned: 0
      }),
      expect.objectContaining({
        productId: mug,
        sku: 'MUG-1',
        quantity: 1,
        unitPrice: '7.50',
        lineTotal: '7.50',
        sold: 1,
        returned: 0
      })
    ]);
    expect(page.statusHistory.map((h: any) => [h.from, h.to])).toEqual([
      [null, 'pending'],
      ['pending', 'paid']
    ]);
    expect(page.customer).toMatchObject({
      id: world.customerId,
      email: 'casey@example.com',
      pointsBalance: 67
    });
    expect(page.tickets.map((t: any) => t.id).sort()).toEqual([ticketA, ticketB].sort());
    expect(page.loyalty).toMatchObject({ earned: 67, redeemed: 0, reversed: 0 });
    expect(page.actions).toEqual({ refund: true, cancel: true, needsTicket: false });
  });

  it('shows an agent the order, but only the tickets of their team, and refunds through one', async () => {
    const page = await as.agentA.getOk(`/api/orders/${orderId}`);
    expect(page.tickets.map((t: any) => t.id)).toEqual([ticketA]);
    expect(page.actionTickets.map((t: any) => t.id)).toEqual([ticketA]);
    expect(page.actions).toEqual({ refund: true, cancel: true, needsTicket: true });
  });

  it('answers 404 for an order that does not exist, and 400 for an id that is not one', async () => {
    const missing = await as.agentA.get('/api/orders/999999');
    expect(missing.status).toBe(404);
    expectErrorShape(missing.body);
    expect(missing.body.error.code).toBe('not_found');
    expect((await as.agentA.get('/api/orders/abc')).status).toBe(400);
    expect((await new Browser(server.url).get(`/api/orders/${orderId}`)).status).toBe(401);
  });

  it('refunds through the existing action: status history, stock and points follow, live on the customer room', async () => {
    const socket = await openSocket(server.url, as.agentA);
    const joined = await socket.timeout(5000).emitWithAck('customer:watch', world.customerId);
    expect(joined).toEqual({ data: { ok: true } });
    // An agent of another team has no ticket of this customer to act through.
    const refused = await as.agentB.post(`/api/orders/${orderId}/refund`, { ticketId: ticketA });
    expect(refused.status).toBe(404);
    const res = await as.agentA.post(`/api/orders/${orderId}/refund`, { ticketId: ticketA });
    expect(res.status).toBe(200);
    const event = await waitFor(
      socket,
      'order:updated',
      (e: any) => e.data.id === orderId && e.data.status === 'refunded'
    );
    expect(event.old).toMatchObject({ status: 'paid' });

    const page = await as.manager.getOk(`/api/orders/${orderId}`);
    expect(page.order.status).toBe('refunded');
    expect(page.statusHistory.map((h: any) => h.to)).toEqual(['pending', 'paid', 'refunded']);
    // The history names who refunded it.
    const { rows: refundedBy } = await db.sql.query(
      `SELECT actor_user_id FROM order_status_changes WHERE order_id = $1 AND to_status = 'refunded'`,
      [orderId]
    );
    expect(refundedBy).toEqual([{ actor_user_id: world.agentA.id }]);
    expect(page.items.map((i: any) => [i.sold, i.returned])).toEqual([
      [2, 2],
      [1, 1]
    ]);
    expect(page.loyalty).toMatchObject({ earned: 67, reversed: 67 });
    expect(page.actions).toMatchObject({ refund: false, cancel: false });
    const { rows } = await db.sql.query(`SELECT id, stock FROM products WHERE id = ANY($1) ORDER BY id`, [
      [kettle, mug]
    ]);
    expect(rows).toEqual([
      { id: kettle, stock: 10 },
      { id: mug, stock: 4 }
    ]);
    // A second refund is refused by the existing rule and moves nothing.
    const again = await as.manager.post(`/api/orders/${orderId}/refund`, {});
    expect(again.status).toBe(422);
    const { rows: moves } = await db.sql.query(
      `SELECT count(*)::int AS n FROM stock_movements WHERE order_id = $1`,
      [orderId]
    );
    expect(moves[0].n).toBe(4);
  });
});
