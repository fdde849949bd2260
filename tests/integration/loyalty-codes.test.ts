import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPulse } from '../../server/pulse.js';
import { shopifyOrder } from '../fixtures/storefront/shopify.js';
import { wooOrder } from '../fixtures/storefront/woocommerce.js';
import { createTestDatabase, waitUntilWaitingForLock, type TestDatabase } from '../support/database.js';
import { createCustomer, createLoyaltyAccount, earnPoints } from '../support/fixtures.js';
import { startTestServer } from '../support/server.js';
import { createStoreRow, sendShopify, sendWoo, settled } from './storefront-support.js';

// A redeemed reward's code is used by the first order that carries it (migration 0031): an order
// written in SQL with attributes.discount_code, or a storefront order whose Shopify discount_codes
// or WooCommerce coupon_lines name it. A second order with the same code leaves it on the first,
// even when both arrive at once.

const SHOPIFY_SECRET = 'shopify-secret-for-codes';
const WOO_SECRET = 'woo-secret-for-codes';

let db: TestDatabase;
let server: RunningPulse;
let member: { customerId: number; accountId: number };

beforeAll(async () => {
  db = await createTestDatabase();
  const customerId = await createCustomer(db.sql, 'coder@example.com');
  member = { customerId, accountId: await createLoyaltyAccount(db.sql, customerId) };
  await earnPoints(db.sql, { accountId: member.accountId, points: 100_000, reason: 'Fixture', key: 'codes' });
  server = await startTestServer(db.url, {
    SHOPIFY_WEBHOOK_SECRET: SHOPIFY_SECRET,
    STORE_INBOX_POLL_MS: '200'
  });
  await createStoreRow(db.sql, {
    name: 'Woo',
    platform: 'woocommerce',
    secret: WOO_SECRET,
    domain: 'example.com'
  });
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

let seq = 0;
/** Redeems 500 points for a $5 voucher, as the redeem action writes it; returns the code. */
async function redeemedCode(): Promise<string> {
  const n = ++seq;
  const code = `PTS-TEST-${String(n).padStart(4, '0')}`;
  const { rows } = await db.sql.query<{ id: string }>(
    `INSERT INTO loyalty_ledger (account_id, kind, points, reason, idempotency_key)
     VALUES ($1, 'redeem', -500, 'Redeemed: $5 voucher', $2) RETURNING id`,
    [member.accountId, `codes:redeem:${n}`]
  );
  await db.sql.query(
    `INSERT INTO loyalty_reward_codes (code, account_id, entry_id, program_version_id, reward_id, reward)
     VALUES ($1, $2, $3, 1, 'voucher-5', '{"id": "voucher-5"}')`,
    [code, member.accountId, rows[0].id]
  );
  return code;
}

async function usedBy(code: string) {
  const { rows } = await db.sql.query<{ used_order_id: number | null; used: boolean }>(
    `SELECT used_order_id, used_at IS NOT NULL AS used FROM loyalty_reward_codes WHERE code = $1`,
    [code]
  );
  return rows[0];
}

async function sqlOrder(attributes: object) {
  const { rows } = await db.sql.query<{ id: number }>(
    `INSERT INTO orders (customer_id, total, status, attributes) VALUES ($1, 20, 'paid', $2) RETURNING id`,
    [member.customerId, attributes]
  );
  return rows[0].id;
}

describe('an order carrying a code', () => {
  it('marks it used with the order, whatever its case; a second order leaves it on the first', async () => {
    const code = await redeemedCode();
    expect(await usedBy(code)).toEqual({ used_order_id: null, used: false });
    const first = await sqlOrder({ discount_code: ` ${code.toLowerCase()} ` });
    expect(await usedBy(code)).toEqual({ used_order_id: first, used: true });
    await sqlOrder({ discount_codes: ['OTHER', code] });
    expect(await usedBy(code)).toEqual({ used_order_id: first, used: true });
  });

  it('keeps it on the order that committed first when two arrive at once', async () => {
    const code = await redeemedCode();
    const a = await db.sql.connect();
    const b = await db.sql.connect();
    try {
      const pidB = (await b.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      await a.query('BEGIN');
      await b.query('BEGIN');
      const {
        rows: [{ id: firstId }]
      } = await a.query(
        `INSERT INTO orders (customer_id, total, attributes) VALUES ($1, 5, jsonb_build_object('discount_code', $2::text)) RETURNING id`,
        [member.customerId, code]
      );
      const second = b.query(
        `INSERT INTO orders (customer_id, total, attributes) VALUES ($1, 5, jsonb_build_object('discount_code', $2::text)) RETURNING id`,
        [member.customerId, code]
      );
      // b waits for a's mark on the code's row; once a commits, b finds it used and leaves it.
      await waitUntilWaitingForLock(db.sql, pidB);
      await a.query('COMMIT');
      await second;
      await b.query('COMMIT');
      expect(await usedBy(code)).toEqual({ used_order_id: firstId, used: true });
    } finally {
      a.release();
      b.release();
    }
  });
});

describe('storefront orders', () => {
  it('Shopify discount_codes and WooCommerce coupon_lines mark the code; the later order does not take it', async () => {
    const code = await redeemedCode();
    const shopify = await sendShopify(server.url, {
      secret: SHOPIFY_SECRET,
      topic: 'orders/create',
      payload: {
        ...shopifyOrder({ id: 5001, email: 'coder@example.com', financial_status: 'paid' }),
        discount_codes: [{ code: code.toLowerCase(), amount: '5.00', type: 'fixed_amount' }]
      }
    });
    expect(shopify.status).toBe(200);
    expect((await settled(db.sql, shopify.body.deliveryId)).state).toBe('processed');
    const { rows } = await db.sql.query<{ id: number; attributes: { discount_codes: string[] } }>(
      `SELECT id, attributes FROM orders WHERE external_id LIKE 'shopify:%:5001'`
    );
    expect(rows[0].attributes.discount_codes).toEqual([code]);
    expect(await usedBy(code)).toEqual({ used_order_id: rows[0].id, used: true });

    const woo = await sendWoo(server.url, {
      secret: WOO_SECRET,
      topic: 'order.created',
      payload: {
        ...wooOrder({ id: 6001, email: 'coder@example.com', status: 'processing' }),
        coupon_lines: [{ id: 1, code, discount: '5.00', discount_tax: '0.00', meta_data: [] }]
      }
    });
    expect(woo.status).toBe(200);
    expect((await settled(db.sql, woo.body.deliveryId)).state).toBe('processed');
    const { rows: wooRows } = await db.sql.query<{ attributes: { discount_code: string } }>(
      `SELECT attributes FROM orders WHERE external_id LIKE 'woocommerce:%:6001'`
    );
    expect(wooRows[0].attributes.discount_code).toBe(code);
    expect(await usedBy(code)).toEqual({ used_order_id: rows[0].id, used: true });
  });
});
