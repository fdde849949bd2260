import type { ClientToServerEvents } from '#shared/events.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPulse } from '../../server/pulse.js';
import { shopifyCustomer, shopifyOrder, shopifyRefund } from '../fixtures/storefront/shopify.js';
import { wooCustomer, wooOrder } from '../fixtures/storefront/woocommerce.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createLoyaltyAccount, createWorld, earnPoints } from '../support/fixtures.js';
import { Browser } from '../support/http.js';
import { closeSockets, openSocket, waitFor, type ClientSocket } from '../support/socket.js';
import { startTestServer } from '../support/server.js';
import { createStoreRow, sendShopify, sendWoo, settled } from './storefront-support.js';

// Shopify and WooCommerce deliveries in their documented formats, end to end: signature checks
// over the raw body, replays applied once, out-of-order updates that never move an order back,
// refunds that reverse loyalty points exactly, customers found through a merge's alias, and the
// ingested order live on a socket watching the orders list.

const SHOPIFY_SECRET = 'shopify-env-secret-0123456789';
const WOO_SECRET = 'woo-store-secret-0123456789';

let db: TestDatabase;
let server: RunningPulse;
let world: Awaited<ReturnType<typeof createWorld>>;
let wooStore: number;
let shopifyStore: number;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  server = await startTestServer(db.url, {
    SHOPIFY_WEBHOOK_SECRET: SHOPIFY_SECRET,
    STORE_INBOX_POLL_MS: '200'
  });
  shopifyStore = (
    await db.sql.query<{ id: number }>(`SELECT id FROM stores WHERE platform = 'shopify' AND source = 'env'`)
  ).rows[0].id;
  wooStore = await createStoreRow(db.sql, {
    name: 'Woo shop',
    platform: 'woocommerce',
    secret: WOO_SECRET,
    domain: 'example.com'
  });
});
afterAll(async () => {
  closeSockets();
  await server?.close();
  await db?.drop();
});

const one = async <T = any>(sql: string, params: unknown[] = []): Promise<T> =>
  (await db.sql.query(sql, params)).rows[0] as T;
const orderOf = (externalId: string) =>
  one<{ id: number; status: string; total: string; customer_id: number } | undefined>(
    `SELECT id, status, total::text, customer_id FROM orders WHERE external_id = $1`,
    [externalId]
  );

describe('Shopify', () => {
  it('applies a signed orders/create: customer by email, the order, its items by SKU', async () => {
    const sent = await sendShopify(server.url, {
      secret: SHOPIFY_SECRET,
      topic: 'orders/create',
      payload: shopifyOrder({ id: 1001, email: 'jon@example.com' })
    });
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({ deliveryId: expect.any(Number), receivedAt: expect.any(String) });
    const delivery = await settled(db.sql, sent.body.deliveryId);
    expect(delivery).toMatchObject({ state: 'processed', topic: 'orders/create', attempts: 1 });
    const order = await orderOf(`shopify:${shopifyStore}:1001`);
    expect(order).toMatchObject({ status: 'paid', total: '403.00' });
    expect(delivery.order_id).toBe(order!.id);
    const customer = await one(`SELECT email, first_name, last_name FROM customers WHERE id = $1`, [
      order!.customer_id
    ]);
    expect(customer).toEqual({ email: 'jon@example.com', first_name: 'John', last_name: 'Smith' });
    const items = (
      await db.sql.query(
        `SELECT p.sku, i.quantity, i.unit_price::text AS price FROM order_items i JOIN products p ON p.id = i.product_id
          WHERE i.order_id = $1 ORDER BY p.sku`,
        [order!.id]
      )
    ).rows;
    expect(items).toEqual([
      { sku: 'SKU2006-001', quantity: 1, price: '199.00' },
      { sku: 'SKU2006-020', quantity: 1, price: '199.00' }
    ]);
    // A paid order sells its items even beyond the stock (migration 0023): the shortfall is received first.
    const { n } = await one(
      `SELECT count(*)::int AS n FROM stock_movements WHERE order_id = $1 AND kind = 'sell'`,
      [order!.id]
    );
    expect(n).toBe(2);
  });

  it('refuses a wrong or missing signature with 401 and stores nothing', async () => {
    const before = await one(`SELECT count(*)::int AS n FROM store_deliveries`);
    const payload = shopifyOrder({ id: 1002 });
    const wrong = await sendShopify(server.url, {
      secret: 'not-the-secret-000000',
      topic: 'orders/create',
      payload
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('unauthenticated');
    // Signed over other bytes (the same JSON, re-serialized with spaces): the raw body is what counts.
    const { signBase64Hmac } = await import('../../server/services/integrations/storefront/signatures.js');
    const reformatted = await sendShopify(server.url, {
      secret: SHOPIFY_SECRET,
      topic: 'orders/create',
      payload,
      signature: signBase64Hmac(SHOPIFY_SECRET, JSON.stringify(payload, null, 2))
    });
    expect(reformatted.status).toBe(401);
    const unsigned = await fetch(new URL('/api/webhooks/shopify', server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-topic': 'orders/create' },
      body: JSON.stringify(payload)
    });
    expect(unsigned.status).toBe(401);
    expect(await one(`SELECT count(*)::int AS n FROM store_deliveries`)).toEqual(before);
    expect(await orderOf(`shopify:${shopifyStore}:1002`)).toBeUndefined();
  });

  it('applies a replayed delivery (same X-Shopify-Webhook-Id) once', async () => {
    const payload = shopifyOrder({ id: 1003, email: 'replay@example.com' });
    const first = await sendShopify(server.url, {
      secret: SHOPIFY_SECRET,
      topic: 'orders/create',
      payload,
      id: 'wh-1003'
    });
    const again = await sendShopify(server.url, {
      secret: SHOPIFY_SECRET,
      topic: 'orders/create',
      payload,
      id: 'wh-1003'
    });
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    await settled(db.sql, first.body.deliveryId);
    expect(
      await one(`SELECT count(*)::int AS n FROM store_deliveries WHERE delivery_key = 'wh-1003'`)
    ).toEqual({ n: 1 });
    expect(
      await one(`SELECT count(*)::int AS n FROM orders WHERE external_id = $1`, [
        `shopify:${shopifyStore}:1003`
      ])
    ).toEqual({ n: 1 });
  });

  it('never moves an order backwards: an update before its create creates it, an older update is ignored', async () => {
    const key = `shopify:${shopifyStore}:1004`;
    // orders/updated (fulfilled, 12:00) arrives before orders/create (pending, 09:00).
    const update = await sendShopify(server.url, {
      secret: SHOPIFY_SECRET,
      topic: 'orders/updated',
      payload: shopifyOrder({
        id: 1004,
        email: 'late@example.com',
        fulfillment_status: 'fulfilled',
        updated_at: '2026-12-01T12:00:00-05:00'
      })
    });
    expect((await settled(db.sql, update.body.deliveryId)).state).toBe('processed');
    expect((await orderOf(key))!.status).toBe('fulfilled');
    const create = await sendShopify(server.url, {
      secret: SHOPIFY_SECRET,
      topic: 'orders/create',
      payload: shopifyOrder({
        id: 1004,
        email: 'late@example.com',
        financial_status: 'pending',
        updated_at: '2026-12-01T09:00:00-05:00'
      })
    });
    const ignored = await settled(db.sql, create.body.deliveryId);
    expect(ignored.state).toBe('ignored');
    expect(ignored.result).toMatch(/already at/);
    expect((await orderOf(key))!.status).toBe('fulfilled');
    // A newer one applies.
    const cancel = await sendShopify(server.url, {
      secret: SHOPIFY_SECRET,
      topic: 'orders/cancelled',
      payload: shopifyOrder({
        id: 1004,
        email: 'late@example.com',
        financial_status: 'voided',
        cancelled_at: '2026-12-01T13:00:00-05:00',
        updated_at: '2026-12-01T13:00:00-05:00'
      })
    });
    expect((await settled(db.sql, cancel.body.deliveryId)).state).toBe('processed');
    expect((await orderOf(key))!.status).toBe('cancelled');
    expect((await one(`SELECT count(*)::int AS n FROM orders WHERE external_id = $1`, [key])).n).toBe(1);
  });

  it('a refund reverses the order’s loyalty points exactly as a refund in Pulse does', async () => {
    const sent = await sendShopify(server.url, {
      secret: SHOPIFY_SECRET,
      topic: 'orders/paid',
      payload: shopifyOrder({ id: 1005, email: 'points@example.com' })
    });
    await settled(db.sql, sent.body.deliveryId);
    const order = (await orderOf(`shopify:${shopifyStore}:1005`))!;
    const accountId = await createLoyaltyAccount(db.sql, order.customer_id);
    await earnPoints(db.sql, {
      accountId,
      points: 403,
      reason: `Earned on #${order.id}`,
      key: `order:${order.id}:earn`,
      orderId: order.id
    });
    await earnPoints(db.sql, { accountId, points: 50, reason: 'Welcome', key: `welcome:${accountId}` });
    expect(await one(`SELECT balance FROM loyalty_accounts WHERE id = $1`, [accountId])).toEqual({
      balance: 453
    });

    // A partial refund changes nothing in points; the full one reverses the order's 403.
    const partial = await sendShopify(server.url, {
      secret: SHOPIFY_SECRET,
      topic: 'refunds/create',
      payload: shopifyRefund(1005, '199.00')
    });
    expect((await settled(db.sql, partial.body.deliveryId)).result).toMatch(/Partial refund/);
    expect((await orderOf(`shopify:${shopifyStore}:1005`))!.status).toBe('paid');
    const full = await sendShopify(server.url, {
      secret: SHOPIFY_SECRET,
      topic: 'refunds/create',
      payload: shopifyRefund(1005, '403.00', '2026-12-03T10:00:00-05:00')
    });
    expect((await settled(db.sql, full.body.deliveryId)).state).toBe('processed');
    expect((await orderOf(`shopify:${shopifyStore}:1005`))!.status).toBe('refunded');
    expect(await one(`SELECT balance FROM loyalty_accounts WHERE id = $1`, [accountId])).toEqual({
      balance: 50
    });
    expect(
      (
        await db.sql.query(`SELECT kind, points FROM loyalty_ledger WHERE order_id = $1 ORDER BY id`, [
          order.id
        ])
      ).rows
    ).toEqual([
      { kind: 'earn', points: 403 },
      { kind: 'reverse', points: -403 }
    ]);
    // An older orders/updated (paid) arriving after the refund does not bring the order back.
    const stale = await sendShopify(server.url, {
      secret: SHOPIFY_SECRET,
      topic: 'orders/updated',
      payload: shopifyOrder({
        id: 1005,
        email: 'points@example.com',
        updated_at: '2026-12-02T09:00:00-05:00'
      })
    });
    expect((await settled(db.sql, stale.body.deliveryId)).state).toBe('ignored');
    expect((await orderOf(`shopify:${shopifyStore}:1005`))!.status).toBe('refunded');
  });

  it('a refund of an order not received yet waits and is retried, visibly', async () => {
    const sent = await sendShopify(server.url, {
      secret: SHOPIFY_SECRET,
      topic: 'refunds/create',
      payload: shopifyRefund(1006, '403.00')
    });
    // Its first attempt fails and is scheduled again.
    const deadline = Date.now() + 20_000;
    let row: any;
    do {
      row = await one(`SELECT state, attempts, error FROM store_deliveries WHERE id = $1`, [
        sent.body.deliveryId
      ]);
      if (row.attempts > 0) break;
      await new Promise((r) => setTimeout(r, 25));
    } while (Date.now() < deadline);
    expect(row).toMatchObject({
      state: 'pending',
      attempts: 1,
      error: expect.stringMatching(/not been received/)
    });
  });

  it('matches the customer through a merge’s alias', async () => {
    const admin = await Browser.signedIn(server.url, world.admin.email);
    const ids = await Promise.all(
      ['alias.keep@example.com', 'alias.gone@example.com'].map(
        async (email) =>
          (
            await db.sql.query<{ id: number }>(
              `INSERT INTO customers (email, first_name, last_name) VALUES ($1, 'Ira', 'Alias') RETURNING id`,
              [email]
            )
          ).rows[0].id
      )
    );
    const version = async (id: number) =>
      (await one(`SELECT version FROM customers WHERE id = $1`, [id])).version;
    const merged = await admin.post(`/api/customers/${ids[0]}/merge`, {
      mergedId: ids[1],
      choices: {},
      expectedVersions: { survivor: await version(ids[0]), merged: await version(ids[1]) }
    });
    expect(merged.status).toBe(200);
    const sent = await sendShopify(server.url, {
      secret: SHOPIFY_SECRET,
      topic: 'orders/create',
      payload: shopifyOrder({ id: 1007, email: 'alias.gone@example.com' })
    });
    await settled(db.sql, sent.body.deliveryId);
    expect((await orderOf(`shopify:${shopifyStore}:1007`))!.customer_id).toBe(ids[0]);
  });

  it('customers/create creates the customer; customers/update brings names up to date', async () => {
    const created = await sendShopify(server.url, {
      secret: SHOPIFY_SECRET,
      topic: 'customers/create',
      payload: shopifyCustomer({ email: 'bob@biller.com' })
    });
    expect((await settled(db.sql, created.body.deliveryId)).result).toMatch(/created/);
    const updated = await sendShopify(server.url, {
      secret: SHOPIFY_SECRET,
      topic: 'customers/update',
      payload: shopifyCustomer({ email: 'BOB@biller.com', first_name: 'Robert' })
    });
    await settled(db.sql, updated.body.deliveryId);
    expect(
      (
        await db.sql.query(
          `SELECT first_name, last_name FROM customers WHERE lower(email) = 'bob@biller.com'`
        )
      ).rows
    ).toEqual([{ first_name: 'Robert', last_name: 'Biller' }]);
  });

  it('a socket watching the orders list sees the ingested order live', async () => {
    const socket: ClientSocket = await openSocket(server.url, world.manager.email);
    const ack = await new Promise((resolve) =>
      (socket.emit as (e: keyof ClientToServerEvents, ...a: unknown[]) => void)(
        'list:watch',
        'orders',
        resolve
      )
    );
    expect(ack).toEqual({ data: { ok: true } });
    const sent = await sendShopify(server.url, {
      secret: SHOPIFY_SECRET,
      topic: 'orders/create',
      payload: shopifyOrder({ id: 1008, email: 'live@example.com' })
    });
    const created = await waitFor(
      socket,
      'order:created',
      (e) => e.data.externalId === `shopify:${shopifyStore}:1008`,
      20_000
    );
    expect(created.data).toMatchObject({ status: 'paid', total: '403.00' });
    const delivery = await waitFor(
      socket,
      'store:delivery_changed',
      (e) => e.data.id === sent.body.deliveryId && e.data.state === 'processed',
      20_000
    );
    expect(delivery.data).toMatchObject({ topic: 'orders/create', orderId: created.data.id });
  });
});

describe('WooCommerce', () => {
  it('answers the ping WooCommerce sends when a webhook is created', async () => {
    const res = await fetch(new URL('/api/webhooks/woocommerce', server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'webhook_id=12'
    });
    expect(res.status).toBe(200);
  });

  it('applies order.created and a later order.updated; refuses a bad signature', async () => {
    const bad = await sendWoo(server.url, {
      secret: 'wrong-secret-0000000000',
      topic: 'order.created',
      payload: wooOrder()
    });
    expect(bad.status).toBe(401);
    const created = await sendWoo(server.url, {
      secret: WOO_SECRET,
      topic: 'order.created',
      payload: wooOrder()
    });
    expect(created.status).toBe(200);
    expect((await settled(db.sql, created.body.deliveryId)).state).toBe('processed');
    const key = `woocommerce:${wooStore}:727`;
    expect(await orderOf(key)).toMatchObject({ status: 'paid', total: '29.35' });
    const skus = (
      await db.sql.query(
        `SELECT p.sku FROM order_items i JOIN products p ON p.id = i.product_id JOIN orders o ON o.id = i.order_id
          WHERE o.external_id = $1 ORDER BY p.sku`,
        [key]
      )
    ).rows.map((r) => r.sku);
    // "Bar3" is Pulse's BAR3; the item without a SKU is known by its WooCommerce product id.
    expect(skus).toEqual(['BAR3', `WC${wooStore}-93`]);
    const done = await sendWoo(server.url, {
      secret: WOO_SECRET,
      topic: 'order.updated',
      payload: wooOrder({ status: 'completed', date_modified_gmt: '2026-12-02T10:00:00' })
    });
    await settled(db.sql, done.body.deliveryId);
    expect((await orderOf(key))!.status).toBe('fulfilled');
    const replay = await sendWoo(server.url, {
      secret: WOO_SECRET,
      topic: 'order.updated',
      payload: wooOrder({ status: 'completed', date_modified_gmt: '2026-12-02T10:00:00' }),
      id: 'same'
    });
    const replayAgain = await sendWoo(server.url, {
      secret: WOO_SECRET,
      topic: 'order.updated',
      payload: wooOrder({ status: 'completed', date_modified_gmt: '2026-12-02T10:00:00' }),
      id: 'same'
    });
    expect(replayAgain.body).toEqual(replay.body);
    // An older update after the newer one changes nothing.
    const older = await sendWoo(server.url, {
      secret: WOO_SECRET,
      topic: 'order.updated',
      payload: wooOrder({ status: 'on-hold', date_modified_gmt: '2026-12-01T20:00:00' })
    });
    expect((await settled(db.sql, older.body.deliveryId)).state).toBe('ignored');
    expect((await orderOf(key))!.status).toBe('fulfilled');
  });

  it('customer.created creates the customer', async () => {
    const sent = await sendWoo(server.url, {
      secret: WOO_SECRET,
      topic: 'customer.created',
      payload: wooCustomer({ email: 'woo.person@example.com', first_name: 'Wanda' })
    });
    await settled(db.sql, sent.body.deliveryId);
    expect(
      await one(`SELECT first_name, phone FROM customers WHERE email = 'woo.person@example.com'`)
    ).toEqual({ first_name: 'Wanda', phone: '(555) 555-5555' });
  });
});
