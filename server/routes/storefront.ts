import { Hono, type Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import {
  CreateStoreBody,
  GenericOrder,
  StoreDeliveriesQuery,
  StoreDeliveryParam,
  StorePatch
} from '#shared/schemas/storefront.js';
import { IdParam } from '#shared/schemas/people.js';
import { requireRole } from '../auth/middleware.js';
import type { AppDeps } from '../deps.js';
import { actorOf, type AppEnv } from '../http/env.js';
import { describedBy } from '../http/route-doc.js';
import { validate } from '../http/validate.js';
import {
  isWooCommercePing,
  receiveGeneric,
  receiveShopify,
  receiveWooCommerce,
  type RawDelivery,
  type Received
} from '../services/integrations/storefront/receive.js';
import {
  createStore,
  listStoreDeliveries,
  listStores,
  retryStoreDelivery,
  updateStore
} from '../services/integrations/storefront/stores.js';

// Storefront webhooks: verified over the raw body, stored in the inbox, answered at once; the
// inbox processor applies them. They authenticate themselves (their signatures), so they are
// `open` in auth/scopes.ts.

async function rawDelivery(c: Context<AppEnv>): Promise<RawDelivery> {
  const raw = new Uint8Array(await c.req.arrayBuffer());
  return { raw, header: (name) => c.req.header(name) };
}

function answer(c: Context<AppEnv>, deps: AppDeps, received: Received) {
  if (received.replayed) c.header('Idempotent-Replayed', 'true');
  else deps.storefrontInbox?.wake();
  return c.json(received.receipt, 200);
}

/** Documents the generic feed's body in OpenAPI; the route itself reads the raw bytes it verifies. */
const documentsBody = describedBy(
  createMiddleware<AppEnv>(async (_c, next) => next()),
  { validates: { target: 'json', schema: GenericOrder } }
);

export const storefrontWebhookRoutes = (deps: AppDeps) =>
  new Hono<AppEnv>()
    .post('/shopify', async (c) => answer(c, deps, await receiveShopify(deps.db, await rawDelivery(c))))
    .post('/woocommerce', async (c) => {
      const req = await rawDelivery(c);
      // WooCommerce pings a new webhook's URL (unsigned) and keeps the webhook only on a 2xx.
      if (isWooCommercePing(req)) return c.json({ ok: true as const }, 200);
      return answer(c, deps, await receiveWooCommerce(deps.db, req));
    });

export const ingestRoutes = (deps: AppDeps) =>
  new Hono<AppEnv>().post('/orders', documentsBody, async (c) =>
    answer(c, deps, await receiveGeneric(deps.db, await rawDelivery(c)))
  );

/** The stores admin: admins only, in a browser session (auth/scopes.ts). */
export const storeRoutes = ({ db }: AppDeps) =>
  new Hono<AppEnv>()
    .get('/', requireRole('admin'), async (c) => c.json({ stores: await listStores(db) }))
    .post('/', requireRole('admin'), validate('json', CreateStoreBody), async (c) =>
      c.json(await createStore(db, actorOf(c), c.req.valid('json')), 201)
    )
    .patch(
      '/:id',
      requireRole('admin'),
      validate('param', IdParam),
      validate('json', StorePatch),
      async (c) =>
        c.json({ store: await updateStore(db, actorOf(c), c.req.valid('param').id, c.req.valid('json')) })
    )
    .get(
      '/:id/deliveries',
      requireRole('admin'),
      validate('param', IdParam),
      validate('query', StoreDeliveriesQuery),
      async (c) =>
        c.json({
          deliveries: await listStoreDeliveries(db, c.req.valid('param').id, c.req.valid('query'))
        })
    )
    .post(
      '/:id/deliveries/:deliveryId/retry',
      requireRole('admin'),
      validate('param', StoreDeliveryParam),
      async (c) => {
        const { id, deliveryId } = c.req.valid('param');
        return c.json({ delivery: await retryStoreDelivery(db, actorOf(c), id, deliveryId) });
      }
    );
