import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { signBase64Hmac, signPulse } from '../../server/services/integrations/storefront/signatures.js';

// Sending storefront deliveries as the platforms do (the raw body signed with the store's secret),
// and waiting for the inbox to apply them.

export interface Sent {
  status: number;
  body: any;
  headers: Headers;
}

async function send(url: string, body: string, headers: Record<string, string>): Promise<Sent> {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

export function sendShopify(
  base: string,
  o: { secret: string; topic: string; payload: unknown; id?: string; domain?: string; signature?: string }
) {
  const body = JSON.stringify(o.payload);
  return send(new URL('/api/webhooks/shopify', base).href, body, {
    'content-type': 'application/json',
    'x-shopify-topic': o.topic,
    'x-shopify-hmac-sha256': o.signature ?? signBase64Hmac(o.secret, body),
    'x-shopify-shop-domain': o.domain ?? 'example.myshopify.com',
    'x-shopify-api-version': '2026-01',
    'x-shopify-webhook-id': o.id ?? randomUUID()
  });
}

export function sendWoo(
  base: string,
  o: { secret: string; topic: string; payload: unknown; id?: string; signature?: string }
) {
  const body = JSON.stringify(o.payload);
  return send(new URL('/api/webhooks/woocommerce', base).href, body, {
    'content-type': 'application/json',
    'x-wc-webhook-source': 'https://example.com/',
    'x-wc-webhook-topic': o.topic,
    'x-wc-webhook-resource': o.topic.split('.')[0],
    'x-wc-webhook-event': o.topic.split('.')[1],
    'x-wc-webhook-signature': o.signature ?? signBase64Hmac(o.secret, body),
    'x-wc-webhook-id': '12',
    'x-wc-webhook-delivery-id': o.id ?? randomUUID()
  });
}

export function sendGeneric(
  base: string,
  o: { secret: string; payload: unknown; key?: string; at?: number; signature?: string }
) {
  const body = typeof o.payload === 'string' ? o.payload : JSON.stringify(o.payload);
  return send(new URL('/api/ingest/orders', base).href, body, {
    'content-type': 'application/json',
    'x-pulse-signature': o.signature ?? signPulse(o.secret, body, o.at),
    ...(o.key ? { 'idempotency-key': o.key } : {})
  });
}

/** Resolves once the delivery is no longer pending; returns its row. */
export async function settled(sql: pg.Pool, deliveryId: number, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await sql.query(`SELECT * FROM store_deliveries WHERE id = $1`, [deliveryId]);
    if (rows[0] && rows[0].state !== 'pending') return rows[0];
    if (Date.now() > deadline)
      throw new Error(`delivery ${deliveryId} still pending: ${JSON.stringify(rows[0])}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function createStoreRow(
  sql: pg.Pool,
  s: { name: string; platform: string; secret: string; domain?: string | null }
): Promise<number> {
  const { rows } = await sql.query<{ id: number }>(
    `INSERT INTO stores (name, platform, shop_domain, secret) VALUES ($1, $2, $3, $4) RETURNING id`,
    [s.name, s.platform, s.domain ?? null, s.secret]
  );
  return rows[0].id;
}
