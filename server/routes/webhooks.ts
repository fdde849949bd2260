import { Hono } from 'hono';
import {
  CreateWebhookBody,
  DeliveriesQuery,
  DeliveryParam,
  WebhookPatch
} from '#shared/schemas/integrations.js';
import { IdParam } from '#shared/schemas/people.js';
import { requireRole } from '../auth/middleware.js';
import type { AppDeps } from '../deps.js';
import { actorOf, type AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import {
  createSubscription,
  deleteSubscription,
  listDeliveries,
  listSubscriptions,
  redeliver,
  updateSubscription,
  type WebhookSettings
} from '../services/integrations/webhooks/subscriptions.js';

/** Outbound webhook subscriptions and their delivery log: admins, or a token with webhooks:manage. */
export const webhookSubscriptionRoutes = ({ db, config }: AppDeps) => {
  const settings: WebhookSettings = {
    allowPrivate: config.WEBHOOKS_ALLOW_PRIVATE,
    retryHours: config.WEBHOOK_RETRY_HOURS
  };
  return new Hono<AppEnv>()
    .get('/', requireRole('admin'), async (c) => c.json({ subscriptions: await listSubscriptions(db) }))
    .post('/', requireRole('admin'), validate('json', CreateWebhookBody), async (c) =>
      c.json(await createSubscription(db, actorOf(c), settings, c.req.valid('json')), 201)
    )
    .patch(
      '/:id',
      requireRole('admin'),
      validate('param', IdParam),
      validate('json', WebhookPatch),
      async (c) =>
        c.json({
          subscription: await updateSubscription(
            db,
            actorOf(c),
            settings,
            c.req.valid('param').id,
            c.req.valid('json')
          )
        })
    )
    .delete('/:id', requireRole('admin'), validate('param', IdParam), async (c) => {
      await deleteSubscription(db, actorOf(c), c.req.valid('param').id);
      return c.json({ ok: true as const });
    })
    .get(
      '/:id/deliveries',
      requireRole('admin'),
      validate('param', IdParam),
      validate('query', DeliveriesQuery),
      async (c) =>
        c.json({ deliveries: await listDeliveries(db, c.req.valid('param').id, c.req.valid('query')) })
    )
    .post(
      '/:id/deliveries/:deliveryId/redeliver',
      requireRole('admin'),
      validate('param', DeliveryParam),
      async (c) => {
        const { id, deliveryId } = c.req.valid('param');
        return c.json({ delivery: await redeliver(db, actorOf(c), settings, id, deliveryId) });
      }
    );
};
