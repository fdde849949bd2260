import { randomBytes } from 'node:crypto';
import type {
  CreateStoreBody,
  CreatedStore,
  DeliveryState,
  Store,
  StoreDelivery,
  StorePlatform
} from '#shared/schemas/storefront.js';
import type { Actor } from '../../../auth/actor.js';
import type { Db } from '../../../data/db.js';
import { AppError, notFound } from '../../../errors.js';
import { audit } from '../../audit.js';
import { presentDelivery } from '../../../presenters/store-delivery.js';

// Stores: the shops whose webhooks Pulse accepts. Admins create them (the secret is shown once);
// SHOPIFY_WEBHOOK_SECRET and WOOCOMMERCE_WEBHOOK_SECRET configure one each from the environment.

/** Where each platform posts (the admin screen shows it next to the store). */
export const STORE_ENDPOINTS: Record<StorePlatform, string> = {
  shopify: '/api/webhooks/shopify',
  woocommerce: '/api/webhooks/woocommerce',
  generic: '/api/ingest/orders'
};

const STORE_COLUMNS = `
  s.id, s.name, s.platform, s.shop_domain, s.source, s.enabled, right(s.secret, 4) AS secret_hint, s.created_at,
  (SELECT count(*)::int FROM store_deliveries d WHERE d.store_id = s.id) AS total,
  (SELECT count(*)::int FROM store_deliveries d WHERE d.store_id = s.id AND d.state = 'pending') AS pending,
  (SELECT count(*)::int FROM store_deliveries d WHERE d.store_id = s.id AND d.state = 'failed') AS failed,
  (SELECT max(d.received_at) FROM store_deliveries d WHERE d.store_id = s.id) AS last_received_at`;

interface StoreRow {
  id: number;
  name: string;
  platform: StorePlatform;
  shop_domain: string | null;
  source: 'admin' | 'env';
  enabled: boolean;
  secret_hint: string;
  created_at: Date;
  total: number;
  pending: number;
  failed: number;
  last_received_at: Date | null;
}

const iso = (d: Date | string | null) => (d == null ? null : new Date(d).toISOString());

function presentStore(r: StoreRow): Store {
  return {
    id: r.id,
    name: r.name,
    platform: r.platform,
    shopDomain: r.shop_domain,
    source: r.source,
    enabled: r.enabled,
    secretHint: r.secret_hint,
    endpoint: STORE_ENDPOINTS[r.platform],
    createdAt: iso(r.created_at)!,
    deliveries: {
      total: r.total,
      pending: r.pending,
      failed: r.failed,
      lastReceivedAt: iso(r.last_received_at)
    }
  };
}

export async function listStores(db: Db): Promise<Store[]> {
  const rows = await db.query<StoreRow>(`SELECT ${STORE_COLUMNS} FROM stores s ORDER BY s.name, s.id`);
  return rows.map(presentStore);
}

async function getStore(db: Db, id: number): Promise<Store> {
  const [row] = await db.query<StoreRow>(`SELECT ${STORE_COLUMNS} FROM stores s WHERE s.id = $1`, [id]);
  if (!row) throw notFound('Store');
  return presentStore(row);
}

/** 32 random bytes as base64url: what Pulse generates when no secret is pasted. */
export const generateStoreSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;

export async function createStore(db: Db, actor: Actor, input: CreateStoreBody): Promise<CreatedStore> {
  const secret = input.secret ?? generateStoreSecret();
  return db.transaction(async (t) => {
    const [{ id }] = await t.query<{ id: number }>(
      `INSERT INTO stores (name, platform, shop_domain, secret, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [input.name, input.platform, input.shopDomain ?? null, secret, actor.user.id]
    );
    await audit(t, {
      action: 'store.created',
      actorUserId: actor.user.id,
      targetType: 'store',
      targetId: id,
      ip: actor.ip,
      details: { name: input.name, platform: input.platform, shopDomain: input.shopDomain ?? null }
    });
    return { store: await getStore(t, id), secret };
  });
}

export async function updateStore(
  db: Db,
  actor: Actor,
  id: number,
  patch: { name?: string; enabled?: boolean }
): Promise<Store> {
  return db.transaction(async (t) => {
    const [row] = await t.query<{ source: string }>(`SELECT source FROM stores WHERE id = $1 FOR UPDATE`, [
      id
    ]);
    if (!row) throw notFound('Store');
    if (row.source === 'env') {
      throw new AppError('unprocessable', 'This store comes from the environment; change it there');
    }
    await t.query(
      `UPDATE stores SET name = coalesce($2, name), enabled = coalesce($3, enabled) WHERE id = $1`,
      [id, patch.name ?? null, patch.enabled ?? null]
    );
    await audit(t, {
      action: 'store.updated',
      actorUserId: actor.user.id,
      targetType: 'store',
      targetId: id,
      ip: actor.ip,
      details: patch
    });
    return getStore(t, id);
  });
}

export async function listStoreDeliveries(
  db: Db,
  storeId: number,
  query: { state?: DeliveryState; limit: number }
): Promise<StoreDelivery[]> {
  await getStore(db, storeId);
  const rows = await db.query<Record<string, unknown>>(
    `SELECT * FROM store_deliveries WHERE store_id = $1 AND ($2::text IS NULL OR state = $2)
      ORDER BY id DESC LIMIT $3`,
    [storeId, query.state ?? null, query.limit]
  );
  return rows.map(presentDelivery);
}

/** Puts a failed (or waiting) delivery back at the head of the queue, with a fresh set of attempts. */
export async function retryStoreDelivery(
  db: Db,
  actor: Actor,
  storeId: number,
  deliveryId: number
): Promise<StoreDelivery> {
  return db.transaction(async (t) => {
    const [row] = await t.query<Record<string, unknown>>(
      `UPDATE store_deliveries SET state = 'pending', attempts = 0, next_attempt_at = now(), error = NULL
        WHERE id = $1 AND store_id = $2 AND state IN ('failed', 'pending') RETURNING *`,
      [deliveryId, storeId]
    );
    if (!row) {
      const [exists] = await t.query(`SELECT 1 FROM store_deliveries WHERE id = $1 AND store_id = $2`, [
        deliveryId,
        storeId
      ]);
      if (!exists) throw notFound('Delivery');
      throw new AppError('unprocessable', 'Only a failed or waiting delivery can be retried');
    }
    await audit(t, {
      action: 'store.delivery_retried',
      actorUserId: actor.user.id,
      targetType: 'store_delivery',
      targetId: deliveryId,
      ip: actor.ip
    });
    return presentDelivery(row);
  });
}

/**
 * The stores SHOPIFY_WEBHOOK_SECRET and WOOCOMMERCE_WEBHOOK_SECRET describe, written at start:
 * created or given the current secret, and disabled when the variable is gone (their deliveries stay).
 */
export async function syncEnvironmentStores(
  db: Db,
  secrets: { shopify?: string; woocommerce?: string }
): Promise<void> {
  const names = { shopify: 'Shopify (environment)', woocommerce: 'WooCommerce (environment)' };
  for (const platform of ['shopify', 'woocommerce'] as const) {
    const secret = secrets[platform];
    if (secret) {
      await db.query(
        `INSERT INTO stores (name, platform, secret, source) VALUES ($1, $2, $3, 'env')
         ON CONFLICT (platform) WHERE source = 'env' DO UPDATE SET secret = EXCLUDED.secret, enabled = true`,
        [names[platform], platform, secret]
      );
    } else {
      await db.query(`UPDATE stores SET enabled = false WHERE platform = $1 AND source = 'env' AND enabled`, [
        platform
      ]);
    }
  }
}

export interface StoreSecret {
  id: number;
  secret: string;
  shopDomain: string | null;
}

/**
 * The enabled stores a delivery may come from: the one of its shop domain when there is one,
 * else those bound to no domain. The caller tries each secret (a handful at most).
 */
export async function candidateStores(
  db: Db,
  platform: StorePlatform,
  domain: string | null
): Promise<StoreSecret[]> {
  const rows = await db.query<{ id: number; secret: string; shop_domain: string | null }>(
    `SELECT id, secret, shop_domain FROM stores
      WHERE platform = $1 AND enabled AND (shop_domain IS NULL OR shop_domain = $2)
      ORDER BY (shop_domain IS NULL), source, id`,
    [platform, domain]
  );
  return rows.map((r) => ({ id: r.id, secret: r.secret, shopDomain: r.shop_domain }));
}
