import type { Logger } from 'pino';
import type { StorePlatform } from '#shared/schemas/storefront.js';
import type { Db } from '../../../data/db.js';
import { applyDelivery, OrderNotYetReceived } from './apply.js';
import { UnusablePayload } from './normalize.js';

export interface InboxOptions {
  /** A pool of its own (poolDb): each delivery is one transaction on one connection. */
  db: Db;
  logger: Logger;
  /** How often it looks for deliveries without being woken (another process's, retries, a restart). */
  pollMs: number;
  /** The first retry's delay; each next one doubles it, up to an hour. */
  retryBaseMs: number;
  /** After this many failed attempts a delivery is `failed` (an admin may retry it). */
  maxAttempts: number;
}

const MAX_BACKOFF_MS = 60 * 60 * 1000;
/** How much of an error the delivery list keeps. */
const ERROR_EXCERPT = 500;

interface Claimed {
  id: string;
  store_id: number;
  platform: StorePlatform;
  topic: string;
  attempts: number;
  body: string | null;
}

/**
 * Applies stored storefront deliveries (receive.ts wrote them). Each delivery is claimed with
 * FOR UPDATE SKIP LOCKED and applied in the same transaction that marks it processed, so it is
 * applied once however many processes run this, and a crash before the commit leaves it pending
 * for the next process or start. A failure rolls the delivery's writes back (a savepoint) and
 * records the error with the next attempt's time; the admin screen shows it live.
 */
export class StorefrontInbox {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly opts: InboxOptions) {}

  start() {
    this.schedule(0);
  }

  /** A delivery was just stored: apply it now rather than at the next poll. */
  wake() {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  /** Stops, after the delivery in hand commits. */
  async close() {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number) {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.drain().finally(() => {
        this.running = undefined;
        const now = this.again;
        this.again = false;
        this.schedule(now ? 0 : this.opts.pollMs);
      });
    }, ms);
  }

  private async drain() {
    try {
      while (!this.stopped && (await this.processOne())) {
        /* next */
      }
    } catch (err) {
      this.opts.logger.error({ err }, 'storefront inbox: could not read the inbox');
    }
  }

  /** Applies the next due delivery; false when none is due. */
  async processOne(): Promise<boolean> {
    return this.opts.db.transaction(async (t) => {
      const [d] = await t.query<Claimed>(
        `SELECT d.id, d.store_id, s.platform, d.topic, d.attempts, b.body
           FROM store_deliveries d
           JOIN stores s ON s.id = d.store_id
           LEFT JOIN store_delivery_bodies b ON b.delivery_id = d.id
          WHERE d.state = 'pending' AND d.next_attempt_at <= now()
          ORDER BY d.next_attempt_at, d.id
          LIMIT 1
          FOR UPDATE OF d SKIP LOCKED`
      );
      if (!d) return false;
      await t.query('SAVEPOINT apply');
      try {
        if (d.body === null) throw new UnusablePayload('The delivery’s body is missing');
        const applied = await applyDelivery(t, {
          storeId: d.store_id,
          platform: d.platform,
          topic: d.topic,
          body: d.body
        });
        await t.query('RELEASE SAVEPOINT apply');
        await t.query(
          `UPDATE store_deliveries SET state = $2, result = $3, order_id = $4, error = NULL,
                  attempts = attempts + 1, processed_at = now()
            WHERE id = $1`,
          [d.id, applied.state, applied.result, applied.orderId]
        );
      } catch (err) {
        await t.query('ROLLBACK TO SAVEPOINT apply');
        const attempts = d.attempts + 1;
        const final = err instanceof UnusablePayload || attempts >= this.opts.maxAttempts;
        const delay = Math.min(this.opts.retryBaseMs * 2 ** (attempts - 1), MAX_BACKOFF_MS);
        const message = (err instanceof Error ? err.message : String(err)).slice(0, ERROR_EXCERPT);
        if (!(err instanceof UnusablePayload || err instanceof OrderNotYetReceived))
          this.opts.logger.warn({ err, delivery: d.id }, 'storefront inbox: applying a delivery failed');
        await t.query(
          `UPDATE store_deliveries SET state = $2, error = $3, attempts = $4,
                  next_attempt_at = now() + $5 * interval '1 millisecond',
                  processed_at = CASE WHEN $2 = 'failed' THEN now() END
            WHERE id = $1`,
          [d.id, final ? 'failed' : 'pending', message, attempts, delay]
        );
      }
      return true;
    });
  }
}
