import { createMiddleware } from 'hono/factory';
import { AppError } from '../errors.js';
import type { AppEnv } from './env.js';

export interface Rate {
  /** Sustained requests a second; 0 turns the limit off. */
  perSecond: number;
  /** Requests at once, above the sustained rate. */
  burst: number;
}

/** A token bucket that also says how long until the next request would pass. */
class Bucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly rate: Rate,
    now: number
  ) {
    this.tokens = rate.burst;
    this.last = now;
  }

  /** 0 when this request may run; otherwise the seconds to wait. */
  take(now: number): number {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / this.rate.perSecond));
  }

  full(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.rate.burst;
  }

  private refill(now: number) {
    this.tokens = Math.min(this.rate.burst, this.tokens + ((now - this.last) / 1000) * this.rate.perSecond);
    this.last = now;
  }
}

/** How often buckets that refilled completely are forgotten (they hold nothing a new one would not). */
const SWEEP_EVERY_MS = 60_000;

/**
 * Requests per API token and per session, each with a bucket of its own, in this process (a
 * deployment of N processes allows up to N times the rate). Anonymous requests are not counted
 * here: sign-in has its own throttle. A refused request is answered 429 `too_many_requests` with
 * `Retry-After` (whole seconds) and runs nothing.
 */
export function apiRateLimit(limits: { token: Rate; session: Rate }) {
  const buckets = new Map<string, Bucket>();
  let lastSweep = performance.now();
  return createMiddleware<AppEnv>(async (c, next) => {
    const key = c.var.apiToken
      ? `token:${c.var.apiToken.id}`
      : c.var.session
        ? `session:${c.var.session.id}`
        : null;
    const rate = c.var.apiToken ? limits.token : limits.session;
    if (!key || rate.perSecond <= 0) return next();
    const now = performance.now();
    if (now - lastSweep > SWEEP_EVERY_MS) {
      lastSweep = now;
      for (const [k, b] of buckets) if (b.full(now)) buckets.delete(k);
    }
    let bucket = buckets.get(key);
    if (!bucket) buckets.set(key, (bucket = new Bucket(rate, now)));
    const wait = bucket.take(now);
    if (wait > 0)
      throw new AppError(
        'too_many_requests',
        `Too many requests from this ${c.var.apiToken ? 'API token' : 'session'}: try again in ${wait} s`,
        undefined,
        { 'Retry-After': String(wait) }
      );
    await next();
  });
}
