import { createHash } from 'node:crypto';
import { GenericOrder, type IngestReceipt } from '#shared/schemas/storefront.js';
import type { Db } from '../../../data/db.js';
import { AppError } from '../../../errors.js';
import { checkPulseSignature, verifyBase64Hmac } from './signatures.js';
import { candidateStores, type StoreSecret } from './stores.js';

// Receiving a storefront delivery: verify its signature over the raw bytes, store it durably in
// the inbox (once per store and delivery id) and answer. Applying it is the processor's work
// (inbox.ts), so the platform gets its 200 within milliseconds and a crash loses nothing.

export interface RawDelivery {
  header(name: string): string | undefined;
  raw: Uint8Array;
}

export interface Received {
  receipt: IngestReceipt;
  /** The same delivery (same store and id) was stored before: nothing new was written. */
  replayed: boolean;
}

const unauthenticated = (why: string) => new AppError('unauthenticated', why);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The body as text, or a 400: the inbox keeps it as text, and Postgres cannot store NUL. */
function bodyText(raw: Uint8Array): string {
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new AppError('bad_request', 'The body is not UTF-8');
  }
  if (text.includes('\u0000')) throw new AppError('bad_request', 'The body holds a NUL character');
  return text;
}

function jsonObject(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AppError('bad_request', 'The body is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new AppError('bad_request', 'The body is not a JSON object');
  return parsed as Record<string, unknown>;
}

const required = (req: RawDelivery, name: string, max = 200) => {
  const value = req.header(name)?.trim();
  if (!value) throw new AppError('bad_request', `The ${name} header is missing`);
  if (value.length > max) throw new AppError('bad_request', `The ${name} header is too long`);
  return value;
};

const firstMatch = (stores: StoreSecret[], verifies: (s: StoreSecret) => boolean) =>
  stores.find(verifies) ?? null;

/** `POST /api/webhooks/shopify`. */
export async function receiveShopify(db: Db, req: RawDelivery): Promise<Received> {
  const signature = req.header('x-shopify-hmac-sha256');
  if (!signature) throw unauthenticated('The X-Shopify-Hmac-Sha256 header is missing');
  const domain = req.header('x-shopify-shop-domain')?.trim().toLowerCase() || null;
  const stores = await candidateStores(db, 'shopify', domain);
  const store = firstMatch(stores, (s) => verifyBase64Hmac(s.secret, req.raw, signature));
  if (!store) throw unauthenticated('The signature does not match any Shopify store’s secret');
  const topic = required(req, 'x-shopify-topic', 100);
  const deliveryKey = required(req, 'x-shopify-webhook-id');
  const text = bodyText(req.raw);
  jsonObject(text);
  return store_(db, store.id, deliveryKey, topic, text);
}

/** WooCommerce's ping when a webhook is created: `webhook_id=N`, form-encoded, unsigned. */
export function isWooCommercePing(req: RawDelivery): boolean {
  if (req.header('x-wc-webhook-topic') || req.raw.length > 64) return false;
  return /^webhook_id=\d{1,20}$/.test(Buffer.from(req.raw).toString('latin1').trim());
}

/** `POST /api/webhooks/woocommerce`. */
export async function receiveWooCommerce(db: Db, req: RawDelivery): Promise<Received> {
  const signature = req.header('x-wc-webhook-signature');
  if (!signature) throw unauthenticated('The X-WC-Webhook-Signature header is missing');
  const stores = await candidateStores(db, 'woocommerce', sourceHost(req.header('x-wc-webhook-source')));
  const store = firstMatch(stores, (s) => verifyBase64Hmac(s.secret, req.raw, signature));
  if (!store) throw unauthenticated('The signature does not match any WooCommerce store’s secret');
  const topic = required(req, 'x-wc-webhook-topic', 100);
  const text = bodyText(req.raw);
  jsonObject(text);
  // WooCommerce names each delivery; one without a name is known by its body.
  const deliveryKey = req.header('x-wc-webhook-delivery-id')?.trim() || `sha256:${sha256(text)}`;
  if (deliveryKey.length > 200) throw new AppError('bad_request', 'The delivery id is too long');
  return store_(db, store.id, deliveryKey, topic, text);
}

/** `POST /api/ingest/orders`: Pulse's own signed order feed, with idempotency keys. */
export async function receiveGeneric(db: Db, req: RawDelivery): Promise<Received> {
  const signature = req.header('x-pulse-signature');
  if (!signature) throw unauthenticated('The X-Pulse-Signature header is missing');
  const stores = await candidateStores(db, 'generic', null);
  let stale = false;
  const store = firstMatch(stores, (s) => {
    const check = checkPulseSignature(s.secret, req.raw, signature);
    if (check === 'stale') stale = true;
    return check === 'valid';
  });
  if (!store)
    throw unauthenticated(
      stale
        ? 'The signature’s timestamp is more than 5 minutes away from now (a replay, or a clock far off)'
        : 'The signature does not match any generic store’s secret'
    );
  const text = bodyText(req.raw);
  const parsed = GenericOrder.safeParse(jsonObject(text));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new AppError(
      'validation_failed',
      `Invalid order: ${issues.map((i) => `${i.path || 'body'} ${i.message}`).join('; ')}`,
      issues
    );
  }
  const key = req.header('idempotency-key')?.trim();
  if (key !== undefined && (key.length < 1 || key.length > 200))
    throw new AppError('bad_request', 'The Idempotency-Key header must be 1 to 200 characters');
  return store_(db, store.id, key ? `key:${key}` : `sha256:${sha256(text)}`, 'order', text, true);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function sourceHost(source: string | undefined): string | null {
  if (!source) return null;
  try {
    return new URL(source).hostname.toLowerCase();
  } catch {
    return null;
  }
}

/**
 * The durable insert. A delivery already stored under the same key is answered as it was the
 * first time; for the generic feed (`strict`), the same key with another body is a conflict (an
 * idempotency key reused for a different request).
 */
async function store_(
  db: Db,
  storeId: number,
  deliveryKey: string,
  topic: string,
  body: string,
  strict = false
): Promise<Received> {
  const hash = sha256(body);
  return db.transaction(async (t) => {
    const [inserted] = await t.query<{ id: string; received_at: Date }>(
      `INSERT INTO store_deliveries (store_id, delivery_key, topic, body_sha256) VALUES ($1, $2, $3, $4)
       ON CONFLICT (store_id, delivery_key) DO NOTHING RETURNING id, received_at`,
      [storeId, deliveryKey, topic, hash]
    );
    if (inserted) {
      await t.query(`INSERT INTO store_delivery_bodies (delivery_id, body) VALUES ($1, $2)`, [
        inserted.id,
        body
      ]);
      return { receipt: receipt(inserted), replayed: false };
    }
    const [earlier] = await t.query<{ id: string; received_at: Date; body_sha256: string }>(
      `SELECT id, received_at, body_sha256 FROM store_deliveries WHERE store_id = $1 AND delivery_key = $2`,
      [storeId, deliveryKey]
    );
    // A platform's retry of a delivery is the same delivery; Pulse's own feed holds keys to their body.
    if (strict && earlier.body_sha256 !== hash)
      throw new AppError(
        'conflict',
        'This delivery id (or Idempotency-Key) was used before with another body'
      );
    return { receipt: receipt(earlier), replayed: true };
  });
}

const receipt = (r: { id: string; received_at: Date }): IngestReceipt => ({
  deliveryId: Number(r.id),
  receivedAt: new Date(r.received_at).toISOString()
});
