import type { StorePlatform } from '#shared/schemas/storefront.js';
import type { Db } from '../../../data/db.js';
import {
  parseDelivery,
  UnusablePayload,
  type IngestCustomer,
  type IngestItem,
  type IngestOrder
} from './normalize.js';

// Applying one stored delivery, inside the processor's transaction. Every write is an ordinary
// write to customers, orders and order_items, so change capture takes it to every open screen.

export interface Applied {
  state: 'processed' | 'ignored';
  result: string;
  orderId: number | null;
}

/** An order a delivery names that Pulse has not received yet: retried later (it may be on its way). */
export class OrderNotYetReceived extends Error {}

export interface DeliveryToApply {
  storeId: number;
  platform: StorePlatform;
  topic: string;
  body: string;
}

export async function applyDelivery(t: Db, d: DeliveryToApply): Promise<Applied> {
  let json: unknown;
  try {
    json = JSON.parse(d.body);
  } catch {
    throw new UnusablePayload('The body is not JSON');
  }
  const parsed = parseDelivery(d.platform, d.topic, (json ?? {}) as Record<string, unknown>);
  switch (parsed.kind) {
    case 'ignore':
      return { state: 'ignored', result: parsed.reason, orderId: null };
    case 'customer': {
      const { id, created } = await resolveCustomer(t, parsed.customer, true);
      return {
        state: 'processed',
        result: `Customer #${id} ${created ? 'created' : 'updated'}`,
        orderId: null
      };
    }
    case 'order':
      return applyOrder(t, d, parsed.order);
    case 'refund':
      return applyRefund(t, d, parsed.orderSourceId, parsed.amount, parsed.at);
    case 'deleted':
      return applyDeleted(t, d, parsed.orderSourceId);
  }
}

/** `shopify:<store id>:<order id>`: unique across platforms and stores (orders.external_id is unique). */
export const externalId = (d: { platform: StorePlatform; storeId: number }, sourceId: string) =>
  `${d.platform}:${d.storeId}:${sourceId}`;

interface Known {
  id: number;
  status: string;
  total: string;
  source_updated_at: Date | null;
}

/** The order of `key`, locked; concurrent deliveries of one order queue here (also before it exists). */
async function lockOrder(t: Db, key: string): Promise<Known | undefined> {
  await t.query(`SELECT pg_advisory_xact_lock(hashtext('store-order'), hashtext($1))`, [key]);
  const [row] = await t.query<Known>(
    `SELECT o.id, o.status, o.total, s.source_updated_at
       FROM orders o LEFT JOIN store_order_sources s ON s.order_id = o.id
      WHERE o.external_id = $1 FOR UPDATE OF o`,
    [key]
  );
  return row;
}

const ENDED = ['refunded', 'cancelled'];

/**
 * Where an order keeps the discount codes it used: `discount_code` (the first, what campaigns and
 * the order form read) and `discount_codes` (all of them). The database marks a reward's or a
 * campaign's code used by the first order that carries it (migration 0031).
 */
const discountAttributes = (codes: string[]) =>
  codes.length ? { discount_code: codes[0], discount_codes: codes } : {};

async function applyOrder(t: Db, d: DeliveryToApply, order: IngestOrder): Promise<Applied> {
  const key = externalId(d, order.sourceId);
  const known = await lockOrder(t, key);
  if (known?.source_updated_at && new Date(order.updatedAt) <= known.source_updated_at) {
    return {
      state: 'ignored',
      result: `Order #${known.id} is already at ${known.source_updated_at.toISOString()}; this delivery is from ${order.updatedAt}`,
      orderId: known.id
    };
  }
  let orderId: number;
  let result: string;
  if (!known) {
    if (!order.customer) throw new UnusablePayload('The order names no customer email address');
    const { id: customerId } = await resolveCustomer(t, order.customer, false);
    [{ id: orderId }] = await t.query<{ id: number }>(
      `INSERT INTO orders (customer_id, order_date, status, total, currency, channel, external_id, attributes)
       VALUES ($1, coalesce($2::timestamptz, now()), $3::order_status, $4, $5, $6::sales_channel, $7, $8::jsonb)
       RETURNING id`,
      [
        customerId,
        order.createdAt,
        order.status,
        order.total,
        order.currency,
        order.channel,
        key,
        JSON.stringify({
          storefront: { storeId: d.storeId, platform: d.platform, name: order.name },
          ...discountAttributes(order.discountCodes)
        })
      ]
    );
    const skipped = await insertItems(t, d, orderId, order.items);
    result = `Order #${orderId} created (${order.status})${skipped ? `; ${skipped}` : ''}`;
  } else {
    orderId = known.id;
    await t.query(
      `UPDATE orders SET status = $2::order_status, total = $3, currency = $4,
              attributes = attributes || $5::jsonb
        WHERE id = $1 AND (status, total, currency, attributes) IS DISTINCT FROM
              ($2::order_status, $3::numeric, $4::char(3), attributes || $5::jsonb)`,
      [
        orderId,
        order.status,
        order.total,
        order.currency,
        JSON.stringify(discountAttributes(order.discountCodes))
      ]
    );
    result =
      known.status === order.status
        ? `Order #${orderId} updated`
        : `Order #${orderId} ${known.status} → ${order.status}`;
  }
  await t.query(
    `INSERT INTO store_order_sources (order_id, store_id, source_id, source_updated_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (order_id) DO UPDATE SET source_updated_at = EXCLUDED.source_updated_at`,
    [orderId, d.storeId, order.sourceId, order.updatedAt]
  );
  if (ENDED.includes(order.status) && !ENDED.includes(known?.status ?? '')) {
    result += await reverseLoyalty(t, orderId);
  }
  return { state: 'processed', result, orderId };
}

/** Takes back the order's points exactly as a refund made in Pulse does (loyalty_reverse_order). */
async function reverseLoyalty(t: Db, orderId: number): Promise<string> {
  const [{ net }] = await t.query<{ net: number }>(`SELECT loyalty_reverse_order($1) AS net`, [orderId]);
  return net === 0 ? '' : `; ${net} loyalty points reversed`;
}

async function applyRefund(
  t: Db,
  d: DeliveryToApply,
  sourceId: string,
  refunded: string,
  at: string
): Promise<Applied> {
  const known = await lockOrder(t, externalId(d, sourceId));
  if (!known) throw new OrderNotYetReceived(`Order ${sourceId} has not been received yet`);
  // A partial refund leaves the order as it is (the shop's orders/updated says partially_refunded);
  // one that gives back the whole total refunds it.
  if (Number(refunded) < Number(known.total)) {
    return {
      state: 'processed',
      result: `Partial refund of ${refunded} on order #${known.id}; it stays ${known.status}`,
      orderId: known.id
    };
  }
  return endOrder(t, known, 'refunded', at, `Order #${known.id} refunded (${refunded})`);
}

async function applyDeleted(t: Db, d: DeliveryToApply, sourceId: string): Promise<Applied> {
  const known = await lockOrder(t, externalId(d, sourceId));
  if (!known) return { state: 'ignored', result: `Order ${sourceId} was never received`, orderId: null };
  return endOrder(
    t,
    known,
    'cancelled',
    new Date().toISOString(),
    `Order #${known.id} deleted in the shop: cancelled`
  );
}

/** Refunds or cancels, and moves the source clock to `at` so an older update cannot undo it. */
async function endOrder(t: Db, known: Known, status: 'refunded' | 'cancelled', at: string, result: string) {
  if (ENDED.includes(known.status))
    return {
      state: 'ignored' as const,
      result: `Order #${known.id} is already ${known.status}`,
      orderId: known.id
    };
  await t.query(`UPDATE orders SET status = $2::order_status WHERE id = $1`, [known.id, status]);
  await t.query(
    `UPDATE store_order_sources SET source_updated_at = greatest(source_updated_at, $2) WHERE order_id = $1`,
    [known.id, at]
  );
  return {
    state: 'processed' as const,
    result: result + (await reverseLoyalty(t, known.id)),
    orderId: known.id
  };
}

// Customers ---------------------------------------------------------------------------------------

const EMAIL = /^[^@\s]+@[^@\s]+$/;
const PHONE = /^\+?[0-9 ()-]{6,24}$/;
const clip = (s: string | null, max: number) => (s ? s.slice(0, max) : null);

/**
 * The customer an email stands for today: the customer with that email or with it among their
 * other emails, followed through merges (resolve_customer_id: a merged-away customer's email finds
 * its survivor), or a new customer. With `update`, names and phone are brought up to date.
 */
export async function resolveCustomer(
  t: Db,
  c: IngestCustomer,
  update: boolean
): Promise<{ id: number; created: boolean }> {
  const email = c.email.trim().toLowerCase();
  if (!EMAIL.test(email) || email.length > 254)
    throw new UnusablePayload(`"${c.email}" is not an email address`);
  const firstName = clip(c.firstName, 80) ?? email.split('@')[0].slice(0, 80);
  const lastName = clip(c.lastName, 80) ?? '';
  const phone = c.phone && PHONE.test(c.phone) ? c.phone : null;
  const [found] = await t.query<{ id: number }>(
    `SELECT resolve_customer_id(id) AS id FROM customers WHERE lower(email) = $1
     UNION ALL
     SELECT resolve_customer_id(customer_id) FROM customer_contacts
      WHERE kind = 'email' AND normalize_email(value) = normalize_email($1)
     LIMIT 1`,
    [email]
  );
  if (found) {
    if (update) {
      await t.query(
        `UPDATE customers SET first_name = $2, last_name = $3, phone = coalesce($4, phone)
          WHERE id = $1 AND merged_into IS NULL
            AND (first_name, last_name, phone) IS DISTINCT FROM ($2, $3, coalesce($4, phone))`,
        [found.id, firstName, lastName, phone]
      );
    }
    return { id: found.id, created: false };
  }
  const [created] = await t.query<{ id: number }>(
    `INSERT INTO customers (email, first_name, last_name, phone) VALUES ($1, $2, $3, $4)
     ON CONFLICT ((lower(email))) DO NOTHING RETURNING id`,
    [email, firstName, lastName, phone]
  );
  if (created) return { id: created.id, created: true };
  // Created by a concurrent delivery since the lookup.
  const [again] = await t.query<{ id: number }>(
    `SELECT resolve_customer_id(id) AS id FROM customers WHERE lower(email) = $1`,
    [email]
  );
  return { id: again.id, created: false };
}

// Items ------------------------------------------------------------------------------------------

const SKU = /^[A-Z0-9][A-Z0-9-]{2,31}$/;
const PREFIX: Record<StorePlatform, string> = { shopify: 'SH', woocommerce: 'WC', generic: 'GN' };

/**
 * The Pulse SKU of a shop's item: its own SKU when it fits Pulse's rule, else one made from the
 * shop's product id (`SH3-788032119674292922`); null when the item has neither.
 */
export function pulseSku(d: { platform: StorePlatform; storeId: number }, item: IngestItem): string | null {
  const own = item.sku?.trim().toUpperCase() ?? '';
  if (SKU.test(own)) return own;
  const made =
    item.productRef && /^\d{1,24}$/.test(item.productRef)
      ? `${PREFIX[d.platform]}${d.storeId}-${item.productRef}`
      : '';
  return SKU.test(made) ? made : null;
}

/**
 * Writes the order's items (one statement, so the stock of a paid order moves once). Products are
 * found by SKU; an unknown SKU becomes a new product with no stock (a sale beyond stock is taken,
 * migration 0023), marked as created by the store. Returns a note of the items left out.
 */
async function insertItems(t: Db, d: DeliveryToApply, orderId: number, items: IngestItem[]): Promise<string> {
  const rows: { productId: number; quantity: number; unitPrice: string }[] = [];
  let skipped = 0;
  for (const item of items) {
    const sku = pulseSku(d, item);
    if (!sku || !Number.isInteger(item.quantity) || item.quantity < 1 || item.quantity > 10_000) {
      skipped++;
      continue;
    }
    const [product] = await t.query<{ id: number }>(
      `WITH made AS (
         INSERT INTO products (sku, name, price, attributes) VALUES ($1, $2, $3, $4::jsonb)
         ON CONFLICT (sku) DO NOTHING RETURNING id)
       SELECT id FROM made UNION ALL SELECT id FROM products WHERE sku = $1 LIMIT 1`,
      [
        sku,
        (item.name ?? sku).slice(0, 200),
        item.unitPrice,
        JSON.stringify({ createdBy: 'storefront', storeId: d.storeId, platform: d.platform })
      ]
    );
    rows.push({ productId: product.id, quantity: item.quantity, unitPrice: item.unitPrice });
  }
  if (rows.length > 0) {
    await t.query(
      `INSERT INTO order_items (order_id, product_id, quantity, unit_price)
       SELECT $1, * FROM unnest($2::int[], $3::int[], $4::numeric[])`,
      [orderId, rows.map((r) => r.productId), rows.map((r) => r.quantity), rows.map((r) => r.unitPrice)]
    );
  }
  return skipped ? `${skipped} item${skipped === 1 ? '' : 's'} without a usable SKU left out` : '';
}
