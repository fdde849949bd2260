import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Logger } from 'pino';
import type { WebhookEvent } from '#shared/schemas/integrations.js';
import { parsePosition } from '#shared/stream-position.js';
import type { Db } from '../../../data/db.js';
import { audit } from '../../audit.js';
import { EVENT_OF_CHANGE_SQL, EVENT_TOPICS, presentEventData } from './events.js';
import { signPayload } from './signature.js';
import { checkedLookup, resolvePublic } from './ssrf.js';

export interface DispatcherOptions {
  db: Db;
  logger: Logger;
  allowPrivate: boolean;
  timeoutMs: number;
  pollMs: number;
  maxConsecutiveFailures: number;
  retryHours: number;
  retryBaseMs: number;
}

/** Deliveries sent at once by one process. */
const CONCURRENCY = 8;
/** The longest wait between two retries of one delivery. */
const MAX_BACKOFF_MS = 60 * 60 * 1000;
/** How much of a receiver's answer the delivery log keeps. */
const RESPONSE_EXCERPT = 500;
/** A claimed delivery is someone else's to send again this long after its timeout (a crashed process). */
const LEASE_MARGIN_MS = 5000;

interface Claimed {
  id: string;
  subscription_id: number;
  event: WebhookEvent;
  payload: Record<string, unknown>;
  created_at: Date;
  url: string;
  secret: string;
}

interface Outcome {
  status: number | null;
  latencyMs: number;
  response: string | null;
  error: string | null;
}

/**
 * Outbound webhooks, fed from change_log:
 * 1. *Enqueue.* Each enabled subscription has a durable cursor (a stream position). One statement
 *    copies the changes visible since it that the subscription wants into webhook_deliveries and
 *    takes the snapshot that becomes the next cursor; the cursor is written in the same
 *    transaction. So a restart loses nothing and copies nothing twice, and a receiver that is down
 *    never holds the change log back (the deliveries carry their own copy of the change).
 * 2. *Deliver.* A delivery is sent when it is due and no earlier change of the same entity is still
 *    pending for that subscription: in order per entity, at least once (a delivery is marked only
 *    after the receiver answered; a crash in between sends it again, with the same `Pulse-Delivery`).
 * Several processes may run this: subscriptions and deliveries are claimed with SKIP LOCKED and a lease.
 */
export class WebhookDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly opts: DispatcherOptions) {}

  start() {
    this.schedule(0);
  }

  /** Stops polling and waits for the deliveries in flight (each bounded by the timeout). */
  async close() {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await Promise.allSettled([...this.inFlight]);
  }

  private schedule(ms: number) {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .catch((err) => this.opts.logger.error({ err }, 'webhook dispatch failed'))
        .then((busy) => this.schedule(busy ? 0 : this.opts.pollMs));
    }, ms);
  }

  /** One round; true when there may be more to do at once. */
  async tick(): Promise<boolean> {
    await this.enqueueAll();
    const free = CONCURRENCY - this.inFlight.size;
    if (free <= 0) return false;
    const claimed = await this.claim(free);
    for (const delivery of claimed) {
      const sending: Promise<void> = this.deliver(delivery)
        .catch((err) =>
          this.opts.logger.error({ err, deliveryId: delivery.id }, 'webhook delivery failed to record')
        )
        .finally(() => this.inFlight.delete(sending));
      this.inFlight.add(sending);
    }
    return claimed.length === free;
  }

  async enqueueAll() {
    const subs = await this.opts.db.query<{ id: number }>(
      `SELECT id FROM webhook_subscriptions WHERE enabled ORDER BY id`
    );
    for (const { id } of subs) await this.enqueue(id);
  }

  private async enqueue(subscriptionId: number) {
    await this.opts.db.transaction(async (t) => {
      const [sub] = await t.query<{ cursor: string; events: string[] }>(
        `SELECT cursor, events FROM webhook_subscriptions WHERE id = $1 AND enabled FOR UPDATE SKIP LOCKED`,
        [subscriptionId]
      );
      if (!sub) return; // another process has it, or it was just disabled
      const since = parsePosition(sub.cursor);
      if (!since) throw new Error(`subscription ${subscriptionId} has a bad cursor: ${sub.cursor}`);
      const [found] = await t.query<{ snapshot: string; copied: number; gap: boolean }>(
        `WITH copied AS (
           INSERT INTO webhook_deliveries (subscription_id, change_id, event, entity_key, payload, created_at, retry_until)
           SELECT $1, c.id, e.event, c.topic || ':' || c.entity_id, c.data, c.created_at,
                  now() + make_interval(secs => $6)
             FROM change_log c CROSS JOIN LATERAL (SELECT ${EVENT_OF_CHANGE_SQL} AS event) e
            WHERE (c.txid >= $2::xid8 OR c.txid = ANY($3::xid8[]))
              AND c.topic = ANY($4::text[]) AND e.event = ANY($5::text[])
            ORDER BY c.id
           ON CONFLICT (subscription_id, change_id) DO NOTHING
           RETURNING 1)
         SELECT pg_current_snapshot()::text AS snapshot, (SELECT count(*)::int FROM copied) AS copied,
                coalesce((SELECT purged_through >= $7::xid8 FROM change_log_retention), false) AND $7::xid8 > '0'::xid8 AS gap`,
        [
          subscriptionId,
          since.xmax.toString(),
          since.xip.map(String),
          EVENT_TOPICS,
          sub.events,
          this.opts.retryHours * 3600,
          since.xmin.toString()
        ]
      );
      await t.query(
        `UPDATE webhook_subscriptions SET cursor = $2, gap_at = CASE WHEN $3 THEN now() ELSE gap_at END WHERE id = $1`,
        [subscriptionId, found.snapshot, found.gap]
      );
      if (found.gap) {
        this.opts.logger.warn(
          { subscriptionId },
          'webhook subscription missed changes that retention pruned before it read them'
        );
        await audit(t, {
          action: 'webhook.gap',
          targetType: 'webhook_subscription',
          targetId: subscriptionId,
          details: { message: 'changes were pruned before this subscription read them' }
        });
      }
    });
  }

  private async claim(limit: number): Promise<Claimed[]> {
    return this.opts.db.query<Claimed>(
      `WITH due AS (
         SELECT d.id FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id AND s.enabled
          WHERE d.state = 'pending' AND d.next_attempt_at <= now()
            AND (d.leased_until IS NULL OR d.leased_until < now())
            AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
                             WHERE e.subscription_id = d.subscription_id AND e.entity_key = d.entity_key
                               AND e.state = 'pending' AND e.change_id < d.change_id)
          ORDER BY d.next_attempt_at, d.id
          LIMIT $1
          FOR UPDATE OF d SKIP LOCKED)
       UPDATE webhook_deliveries d SET leased_until = now() + make_interval(secs => $2)
         FROM due, webhook_subscriptions s
        WHERE d.id = due.id AND s.id = d.subscription_id
       RETURNING d.id, d.subscription_id, d.event, d.payload, d.created_at, s.url, s.secret`,
      [limit, (this.opts.timeoutMs + LEASE_MARGIN_MS) / 1000]
    );
  }

  private async deliver(d: Claimed) {
    const body = JSON.stringify({
      id: String(d.id),
      event: d.event,
      createdAt: new Date(d.created_at).toISOString(),
      data: presentEventData(d.event, d.payload)
    });
    const outcome = await this.send(d, body);
    const ok = outcome.status !== null && outcome.status >= 200 && outcome.status < 300;
    await this.opts.db.transaction(async (t) => {
      await t.query(
        `INSERT INTO webhook_attempts (delivery_id, status, latency_ms, response, error) VALUES ($1, $2, $3, $4, $5)`,
        [d.id, outcome.status, outcome.latencyMs, outcome.response, outcome.error]
      );
      const [after] = await t.query<{ attempts: number; state: string }>(
        `UPDATE webhook_deliveries
            SET attempts = attempts + 1, leased_until = NULL,
                last_status = $2, last_latency_ms = $3, last_response = $4, last_error = $5,
                state = CASE WHEN $6 THEN 'delivered'
                             WHEN now() + make_interval(secs => $7 * power(2, least(attempts, 20))) > retry_until THEN 'failed'
                             ELSE 'pending' END,
                delivered_at = CASE WHEN $6 THEN now() ELSE delivered_at END,
                next_attempt_at = CASE WHEN $6 THEN next_attempt_at
                                       ELSE now() + make_interval(secs => least($8, $7 * power(2, least(attempts, 20))) * (0.8 + random() * 0.4)) END
          WHERE id = $1 RETURNING attempts, state`,
        [
          d.id,
          outcome.status,
          outcome.latencyMs,
          outcome.response,
          outcome.error,
          ok,
          this.opts.retryBaseMs / 1000,
          MAX_BACKOFF_MS / 1000
        ]
      );
      const [sub] = await t.query<{ consecutive_failures: number; enabled: boolean; name: string }>(
        `UPDATE webhook_subscriptions SET consecutive_failures = CASE WHEN $2 THEN 0 ELSE consecutive_failures + 1 END
          WHERE id = $1 RETURNING consecutive_failures, enabled, name`,
        [d.subscription_id, ok]
      );
      if (!ok && sub?.enabled && sub.consecutive_failures >= this.opts.maxConsecutiveFailures) {
        const reason = `Disabled after ${sub.consecutive_failures} failed deliveries in a row (last: ${outcome.error ?? `HTTP ${outcome.status}`})`;
        await t.query(
          `UPDATE webhook_subscriptions SET enabled = false, disabled_reason = $2 WHERE id = $1`,
          [d.subscription_id, reason]
        );
        // The notice admins get: the admin screen shows it on the subscription and at the top.
        await audit(t, {
          action: 'webhook.disabled',
          targetType: 'webhook_subscription',
          targetId: d.subscription_id,
          details: { reason }
        });
        this.opts.logger.warn({ subscriptionId: d.subscription_id, name: sub.name }, reason);
      }
      if (after?.state === 'failed')
        this.opts.logger.warn({ deliveryId: d.id, attempts: after.attempts }, 'webhook delivery gave up');
    });
  }

  /** One POST; never follows a redirect, and connects only to an address the SSRF check passed. */
  private async send(d: Claimed, body: string): Promise<Outcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let url: URL;
    try {
      url = new URL(d.url);
      // A literal address skips `lookup`: check it here.
      await resolvePublic(url.hostname, this.opts.allowPrivate).then((found) => {
        if (found.length === 0) throw new Error('no address');
      });
    } catch (err) {
      return { status: null, latencyMs: elapsed(), response: null, error: (err as Error).message };
    }
    return new Promise<Outcome>((resolve) => {
      const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = request(
        url,
        {
          method: 'POST',
          lookup: checkedLookup(this.opts.allowPrivate),
          timeout: this.opts.timeoutMs,
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Pulse-Webhooks/1',
            'pulse-delivery': String(d.id),
            'pulse-event': d.event,
            'pulse-signature': signPayload(d.secret, body),
            'content-length': Buffer.byteLength(body)
          }
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (text.length < RESPONSE_EXCERPT) text += chunk;
          });
          res.on('end', () => {
            const status = res.statusCode ?? null;
            const redirect = status !== null && status >= 300 && status < 400;
            resolve({
              status,
              latencyMs: elapsed(),
              response: text.slice(0, RESPONSE_EXCERPT) || null,
              error: redirect ? `Redirect to ${res.headers.location ?? '?'} not followed` : null
            });
          });
          res.on('error', (err) =>
            resolve({
              status: res.statusCode ?? null,
              latencyMs: elapsed(),
              response: null,
              error: err.message
            })
          );
        }
      );
      const deadline = setTimeout(
        () => req.destroy(new Error(`No answer within ${this.opts.timeoutMs} ms`)),
        this.opts.timeoutMs
      );
      req.on('timeout', () => req.destroy(new Error(`No answer within ${this.opts.timeoutMs} ms`)));
      req.on('error', (err) =>
        resolve({ status: null, latencyMs: elapsed(), response: null, error: err.message })
      );
      req.on('close', () => clearTimeout(deadline));
      req.end(body);
    });
  }
}
