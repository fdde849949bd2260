import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type {
  CreatedWebhook,
  CreateWebhookBody,
  DeliveriesQuery,
  WebhookAttempt,
  WebhookDelivery,
  WebhookEvent,
  WebhookPatch,
  WebhookSubscription
} from '#shared/schemas/integrations.js';
import type { Actor } from '../../../auth/actor.js';
import type { Db } from '../../../data/db.js';
import { AppError, notFound } from '../../../errors.js';
import { audit } from '../../audit.js';
import { RefusedAddress, resolvePublic } from './ssrf.js';

export interface WebhookSettings {
  allowPrivate: boolean;
  retryHours: number;
}

interface SubscriptionRow {
  id: number;
  name: string;
  url: string;
  events: WebhookEvent[];
  enabled: boolean;
  disabled_reason: string | null;
  consecutive_failures: number;
  gap_at: Date | null;
  created_at: Date;
  pending: number;
  last_delivery_at: Date | null;
}

const SELECT = `SELECT s.id, s.name, s.url, s.events, s.enabled, s.disabled_reason, s.consecutive_failures, s.gap_at, s.created_at,
       (SELECT count(*)::int FROM webhook_deliveries d WHERE d.subscription_id = s.id AND d.state = 'pending') AS pending,
       (SELECT max(d.delivered_at) FROM webhook_deliveries d WHERE d.subscription_id = s.id) AS last_delivery_at
  FROM webhook_subscriptions s`;

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
const present = (r: SubscriptionRow): WebhookSubscription => ({
  id: r.id,
  name: r.name,
  url: r.url,
  events: r.events,
  enabled: r.enabled,
  disabledReason: r.disabled_reason,
  consecutiveFailures: r.consecutive_failures,
  gapAt: iso(r.gap_at),
  createdAt: iso(r.created_at)!,
  pending: r.pending,
  lastDeliveryAt: iso(r.last_delivery_at)
});

/** Refuses a URL whose host resolves to a private or loopback address (unless allowed). */
async function checkUrl(url: string, settings: WebhookSettings) {
  try {
    await resolvePublic(new URL(url).hostname, settings.allowPrivate);
  } catch (err) {
    if (err instanceof RefusedAddress)
      throw new AppError(
        'unprocessable',
        `${err.message}: webhooks may not reach the server's own network (WEBHOOKS_ALLOW_PRIVATE allows it)`,
        [{ path: 'url', message: 'resolves to a private or loopback address' }]
      );
    throw new AppError('unprocessable', `${new URL(url).hostname} does not resolve`, [
      { path: 'url', message: 'does not resolve' }
    ]);
  }
}

export async function listSubscriptions(db: Db): Promise<WebhookSubscription[]> {
  return (await db.query<SubscriptionRow>(`${SELECT} ORDER BY s.created_at DESC, s.id DESC`)).map(present);
}

async function getRow(db: Db, id: number) {
  const [row] = await db.query<SubscriptionRow>(`${SELECT} WHERE s.id = $1`, [id]);
  if (!row) throw notFound('Webhook subscription');
  return row;
}

/** A new subscription reads the change log from now on; its secret is shown once. */
export async function createSubscription(
  db: Db,
  actor: Actor,
  settings: WebhookSettings,
  input: z.output<typeof CreateWebhookBody>
): Promise<CreatedWebhook> {
  await checkUrl(input.url, settings);
  const secret = `whsec_${randomBytes(24).toString('base64url')}`;
  return db.transaction(async (t) => {
    const [{ id }] = await t.query<{ id: number }>(
      `INSERT INTO webhook_subscriptions (name, url, events, secret, cursor, created_by)
       VALUES ($1, $2, $3::text[], $4, pg_current_snapshot()::text, $5) RETURNING id`,
      [input.name, input.url, input.events, secret, actor.user.id]
    );
    await audit(t, {
      action: 'webhook.created',
      actorUserId: actor.user.id,
      targetType: 'webhook_subscription',
      targetId: id,
      ip: actor.ip,
      details: { url: input.url, events: input.events }
    });
    return { subscription: present(await getRow(t, id)), secret };
  });
}

/** Re-enabling starts a clean count of failures; what was pending is sent again, in order. */
export async function updateSubscription(
  db: Db,
  actor: Actor,
  settings: WebhookSettings,
  id: number,
  patch: z.output<typeof WebhookPatch>
): Promise<WebhookSubscription> {
  if (patch.url) await checkUrl(patch.url, settings);
  return db.transaction(async (t) => {
    const [row] = await t.query<{ id: number }>(
      `UPDATE webhook_subscriptions
          SET name = coalesce($2, name), url = coalesce($3, url), events = coalesce($4::text[], events),
              enabled = coalesce($5, enabled),
              disabled_reason = CASE WHEN $5 IS NULL THEN disabled_reason WHEN $5 THEN NULL ELSE 'Disabled by an admin' END,
              consecutive_failures = CASE WHEN $5 THEN 0 ELSE consecutive_failures END
        WHERE id = $1 RETURNING id`,
      [id, patch.name ?? null, patch.url ?? null, patch.events ?? null, patch.enabled ?? null]
    );
    if (!row) throw notFound('Webhook subscription');
    if (patch.enabled)
      await t.query(
        `UPDATE webhook_deliveries SET next_attempt_at = now(), retry_until = greatest(retry_until, now() + make_interval(secs => $2))
          WHERE subscription_id = $1 AND state = 'pending'`,
        [id, settings.retryHours * 3600]
      );
    await audit(t, {
      action: 'webhook.updated',
      actorUserId: actor.user.id,
      targetType: 'webhook_subscription',
      targetId: id,
      ip: actor.ip,
      details: patch
    });
    return present(await getRow(t, id));
  });
}

export async function deleteSubscription(db: Db, actor: Actor, id: number): Promise<void> {
  await db.transaction(async (t) => {
    const [row] = await t.query(`DELETE FROM webhook_subscriptions WHERE id = $1 RETURNING id`, [id]);
    if (!row) throw notFound('Webhook subscription');
    await audit(t, {
      action: 'webhook.deleted',
      actorUserId: actor.user.id,
      targetType: 'webhook_subscription',
      targetId: id,
      ip: actor.ip
    });
  });
}

interface DeliveryRow {
  id: string;
  event: WebhookEvent;
  entity_key: string;
  state: WebhookDelivery['state'];
  attempts: number;
  next_attempt_at: Date | null;
  last_status: number | null;
  last_latency_ms: number | null;
  last_response: string | null;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
  history:
    | {
        at: string;
        status: number | null;
        latency_ms: number;
        response: string | null;
        error: string | null;
      }[]
    | null;
}

const DELIVERY_SELECT = `SELECT d.id, d.event, d.entity_key, d.state, d.attempts,
       CASE WHEN d.state = 'pending' THEN d.next_attempt_at END AS next_attempt_at,
       d.last_status, d.last_latency_ms, d.last_response, d.last_error, d.created_at, d.delivered_at,
       (SELECT json_agg(a ORDER BY a.id DESC) FROM (SELECT id, at, status, latency_ms, response, error
          FROM webhook_attempts WHERE delivery_id = d.id ORDER BY id DESC LIMIT 10) a) AS history
  FROM webhook_deliveries d`;

const presentDelivery = (r: DeliveryRow): WebhookDelivery => ({
  id: Number(r.id),
  event: r.event,
  entity: r.entity_key,
  state: r.state,
  attempts: r.attempts,
  nextAttemptAt: iso(r.next_attempt_at),
  lastStatus: r.last_status,
  lastLatencyMs: r.last_latency_ms,
  lastResponse: r.last_response,
  lastError: r.last_error,
  createdAt: iso(r.created_at)!,
  deliveredAt: iso(r.delivered_at),
  history: (r.history ?? []).map((a): WebhookAttempt => ({
    at: new Date(a.at).toISOString(),
    status: a.status,
    latencyMs: a.latency_ms,
    response: a.response,
    error: a.error
  }))
});

/** The delivery log, newest first. */
export async function listDeliveries(
  db: Db,
  id: number,
  query: z.output<typeof DeliveriesQuery>
): Promise<WebhookDelivery[]> {
  await getRow(db, id);
  const rows = await db.query<DeliveryRow>(
    `${DELIVERY_SELECT} WHERE d.subscription_id = $1 AND ($2::text IS NULL OR d.state = $2) ORDER BY d.id DESC LIMIT $3`,
    [id, query.state ?? null, query.limit]
  );
  return rows.map(presentDelivery);
}

/** Sends a delivery again (with the same id, so a receiver that kept it can tell), soon. */
export async function redeliver(
  db: Db,
  actor: Actor,
  settings: WebhookSettings,
  id: number,
  deliveryId: number
): Promise<WebhookDelivery> {
  return db.transaction(async (t) => {
    const [row] = await t.query<{ id: string }>(
      `UPDATE webhook_deliveries
          SET state = 'pending', next_attempt_at = now(), leased_until = NULL,
              retry_until = now() + make_interval(secs => $3)
        WHERE id = $2 AND subscription_id = $1 AND (leased_until IS NULL OR leased_until < now()) RETURNING id`,
      [id, deliveryId, settings.retryHours * 3600]
    );
    if (!row) {
      const [exists] = await t.query(
        `SELECT 1 FROM webhook_deliveries WHERE id = $2 AND subscription_id = $1`,
        [id, deliveryId]
      );
      if (!exists) throw notFound('Webhook delivery');
      throw new AppError('conflict', 'This delivery is being sent right now: wait for its answer');
    }
    await audit(t, {
      action: 'webhook.redelivered',
      actorUserId: actor.user.id,
      targetType: 'webhook_delivery',
      targetId: deliveryId,
      ip: actor.ip,
      details: { subscriptionId: id }
    });
    const [delivery] = await t.query<DeliveryRow>(`${DELIVERY_SELECT} WHERE d.id = $1`, [deliveryId]);
    return presentDelivery(delivery);
  });
}
