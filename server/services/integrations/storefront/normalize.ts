import type { OrderStatus } from '#shared/enums.js';
import { GenericOrder, type StorePlatform } from '#shared/schemas/storefront.js';

// Each platform's documented payloads, read into one shape Pulse applies (apply.ts). Only what
// Pulse keeps is read; everything else in the payload is left alone.

export interface IngestCustomer {
  email: string;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
}

export interface IngestItem {
  /** The shop's SKU, as sent (possibly blank). */
  sku: string | null;
  /** The shop's product id, for items without a usable SKU. */
  productRef: string | null;
  name: string | null;
  quantity: number;
  unitPrice: string;
}

export interface IngestOrder {
  sourceId: string;
  /** The shop's order number (`#1001`). */
  name: string | null;
  status: OrderStatus;
  total: string;
  currency: string;
  channel: 'web' | 'pos' | 'mobile';
  createdAt: string | null;
  /** The source's clock: deliveries older than the last applied one change nothing. */
  updatedAt: string;
  customer: IngestCustomer | null;
  items: IngestItem[];
  /** Discount codes the order used, upper case, each once (Shopify discount_codes, WooCommerce coupon_lines). */
  discountCodes: string[];
}

export type Parsed =
  | { kind: 'order'; order: IngestOrder }
  | { kind: 'customer'; customer: IngestCustomer }
  | { kind: 'refund'; orderSourceId: string; amount: string; at: string }
  | { kind: 'deleted'; orderSourceId: string }
  | { kind: 'ignore'; reason: string };

/** A payload that can never be applied, however often it is retried. */
export class UnusablePayload extends Error {}

type Json = Record<string, unknown>;
/** At most this many codes are kept from one order (a shop allows a handful). */
const MAX_CODES = 20;

/** The `code` of each entry of a list of discount objects, upper case, each once. */
function discountCodes(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  const codes = list
    .map((entry) => str(obj(entry).code)?.trim().toUpperCase())
    .filter((c): c is string => !!c && c.length <= 100);
  return [...new Set(codes)].slice(0, MAX_CODES);
}

const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const str = (v: unknown): string | null =>
  typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' ? String(v) : null;
const DECIMAL = /^-?\d{1,10}(\.\d+)?$/;
/** A decimal amount (a string, or a number in WooCommerce's item price) rounded to cents. */
function amount(v: unknown): string | null {
  const s = typeof v === 'number' && Number.isFinite(v) ? String(v) : str(v);
  if (!s || !DECIMAL.test(s)) return null;
  const [whole, frac = ''] = s.replace('-', '').split('.');
  const cents = BigInt(whole + (frac + '00').slice(0, 2)) + (Number(frac[2] ?? 0) >= 5 ? 1n : 0n);
  const sign = s.startsWith('-') && cents > 0n ? '-' : '';
  return `${sign}${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`;
}
function instant(v: unknown, assumeUtc = false): string | null {
  const s = str(v);
  if (!s) return null;
  const withZone = assumeUtc && !/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? `${s}Z` : s;
  const at = Date.parse(withZone);
  return Number.isFinite(at) ? new Date(at).toISOString() : null;
}
const need = <T>(value: T | null, what: string): T => {
  if (value === null) throw new UnusablePayload(`${what} is missing or malformed`);
  return value;
};

export function parseDelivery(platform: StorePlatform, topic: string, body: Json): Parsed {
  switch (platform) {
    case 'shopify':
      return parseShopify(topic, body);
    case 'woocommerce':
      return parseWooCommerce(topic, body);
    case 'generic':
      return parseGeneric(body);
  }
}

// Shopify ------------------------------------------------------------------------------------------

function shopifyStatus(o: Json): OrderStatus {
  const financial = str(o.financial_status);
  if (str(o.cancelled_at)) return financial === 'refunded' ? 'refunded' : 'cancelled';
  switch (financial) {
    case 'paid':
    case 'partially_refunded':
      return str(o.fulfillment_status) === 'fulfilled' ? 'fulfilled' : 'paid';
    case 'refunded':
      return 'refunded';
    case 'voided':
      return 'cancelled';
    default: // pending, authorized, partially_paid, expired
      return 'pending';
  }
}

function shopifyCustomer(c: Json, fallbackEmail: string | null, address: Json): IngestCustomer | null {
  const email = str(c.email) ?? fallbackEmail;
  if (!email) return null;
  return {
    email,
    firstName: str(c.first_name) ?? str(address.first_name),
    lastName: str(c.last_name) ?? str(address.last_name),
    phone: str(c.phone) ?? str(address.phone)
  };
}

function parseShopify(topic: string, o: Json): Parsed {
  switch (topic) {
    case 'orders/create':
    case 'orders/updated':
    case 'orders/paid':
    case 'orders/cancelled': {
      const email = str(o.email) ?? str(o.contact_email);
      const items = Array.isArray(o.line_items) ? o.line_items.map(obj) : [];
      return {
        kind: 'order',
        order: {
          sourceId: need(str(o.id), 'The order id'),
          name: str(o.name),
          status: shopifyStatus(o),
          total: need(amount(o.total_price) ?? amount(o.current_total_price), 'total_price'),
          currency: str(o.currency) ?? 'USD',
          channel: str(o.source_name) === 'pos' ? 'pos' : 'web',
          createdAt: instant(o.created_at),
          updatedAt: need(instant(o.updated_at) ?? instant(o.created_at), 'updated_at'),
          customer: shopifyCustomer(obj(o.customer), email, obj(o.billing_address)),
          discountCodes: discountCodes(o.discount_codes),
          items: items.map((i) => ({
            sku: str(i.sku),
            productRef: str(i.product_id) ?? str(i.variant_id),
            name: str(i.title) ?? str(i.name),
            quantity: Number(i.quantity),
            unitPrice: amount(i.price) ?? '0.00'
          }))
        }
      };
    }
    case 'refunds/create': {
      // What the refund's successful transactions gave back.
      let cents = 0n;
      for (const t of Array.isArray(o.transactions) ? o.transactions.map(obj) : []) {
        const a = amount(t.amount);
        if (a && str(t.kind) === 'refund' && (str(t.status) ?? 'success') === 'success')
          cents += BigInt(a.replace('.', '').replace('-', ''));
      }
      return {
        kind: 'refund',
        orderSourceId: need(str(o.order_id), 'order_id'),
        amount: `${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`,
        at: instant(o.processed_at) ?? instant(o.created_at) ?? new Date().toISOString()
      };
    }
    case 'customers/create':
    case 'customers/update': {
      const customer = shopifyCustomer(o, null, obj(o.default_address));
      return customer
        ? { kind: 'customer', customer }
        : { kind: 'ignore', reason: 'The customer has no email address' };
    }
    default:
      return { kind: 'ignore', reason: `Pulse does not use the ${topic} topic` };
  }
}

// WooCommerce --------------------------------------------------------------------------------------

const WOO_STATUS: Record<string, OrderStatus> = {
  pending: 'pending',
  'on-hold': 'pending',
  failed: 'pending',
  'checkout-draft': 'pending',
  processing: 'paid',
  completed: 'fulfilled',
  cancelled: 'cancelled',
  refunded: 'refunded',
  trash: 'cancelled'
};

function parseWooCommerce(topic: string, o: Json): Parsed {
  switch (topic) {
    case 'order.created':
    case 'order.updated':
    case 'order.restored': {
      const billing = obj(o.billing);
      const email = str(billing.email);
      const items = Array.isArray(o.line_items) ? o.line_items.map(obj) : [];
      return {
        kind: 'order',
        order: {
          sourceId: need(str(o.id), 'The order id'),
          name: str(o.number),
          status: WOO_STATUS[str(o.status) ?? ''] ?? 'pending',
          total: need(amount(o.total), 'total'),
          currency: str(o.currency) ?? 'USD',
          channel: 'web',
          createdAt: instant(o.date_created_gmt, true),
          updatedAt: need(
            instant(o.date_modified_gmt, true) ?? instant(o.date_created_gmt, true),
            'date_modified_gmt'
          ),
          customer: email
            ? {
                email,
                firstName: str(billing.first_name),
                lastName: str(billing.last_name),
                phone: str(billing.phone)
              }
            : null,
          discountCodes: discountCodes(o.coupon_lines),
          items: items.map((i) => ({
            sku: str(i.sku),
            productRef:
              str(i.variation_id) !== '0' && str(i.variation_id) ? str(i.variation_id) : str(i.product_id),
            name: str(i.name),
            quantity: Number(i.quantity),
            // `price` is the unit price after discounts (a number); `total` the line's.
            unitPrice: amount(i.price) ?? '0.00'
          }))
        }
      };
    }
    case 'order.deleted':
      return { kind: 'deleted', orderSourceId: need(str(o.id), 'The order id') };
    case 'customer.created':
    case 'customer.updated': {
      const billing = obj(o.billing);
      const email = str(o.email) ?? str(billing.email);
      if (!email) return { kind: 'ignore', reason: 'The customer has no email address' };
      return {
        kind: 'customer',
        customer: {
          email,
          firstName: str(o.first_name) ?? str(billing.first_name),
          lastName: str(o.last_name) ?? str(billing.last_name),
          phone: str(billing.phone)
        }
      };
    }
    default:
      return { kind: 'ignore', reason: `Pulse does not use the ${topic} topic` };
  }
}

// Generic ------------------------------------------------------------------------------------------

function parseGeneric(body: Json): Parsed {
  const parsed = GenericOrder.safeParse(body);
  if (!parsed.success) throw new UnusablePayload(parsed.error.issues.map((i) => i.message).join('; '));
  const o = parsed.data;
  return {
    kind: 'order',
    order: {
      sourceId: o.id,
      name: null,
      status: o.status,
      total: amount(o.total)!,
      currency: o.currency,
      channel: 'web',
      createdAt: o.createdAt ? new Date(o.createdAt).toISOString() : null,
      updatedAt: new Date(o.updatedAt).toISOString(),
      customer: {
        email: o.customer.email,
        firstName: o.customer.firstName ?? null,
        lastName: o.customer.lastName ?? null,
        phone: o.customer.phone ?? null
      },
      discountCodes: discountCodes((o.discountCodes ?? []).map((code) => ({ code }))),
      items: o.items.map((i) => ({
        sku: i.sku,
        productRef: null,
        name: i.name ?? null,
        quantity: i.quantity,
        unitPrice: amount(i.unitPrice)!
      }))
    }
  };
}
