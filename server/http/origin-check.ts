import { createMiddleware } from 'hono/factory';
import { AppError } from '../errors.js';
import type { AppEnv } from './env.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The request's own origin, as the browser would write it. */
export function requestOrigin(url: string, headers: { get(name: string): string | null | undefined }, trustProxy: boolean) {
  const own = new URL(url);
  if (!trustProxy) return own.origin;
  const proto = headers.get('x-forwarded-proto')?.split(',')[0]?.trim() || own.protocol.slice(0, -1);
  const host = headers.get('x-forwarded-host')?.split(',')[0]?.trim() || own.host;
  return `${proto}://${host}`;
}

export function isAllowedOrigin(origin: string | null | undefined, ownOrigin: string, allowed: string[]) {
  return !!origin && (origin === ownOrigin || allowed.includes(origin));
}

/**
 * Cross-site request forgery guard: every state-changing request must say where it comes
 * from (Origin, or Referer when a browser leaves Origin out) and that must be Pulse itself.
 */
export const originCheck = (allowed: string[], trustProxy: boolean) =>
  createMiddleware<AppEnv>(async (c, next) => {
    // An integration's bearer token is not sent by browsers on their own: no forgery to guard against.
    const bearerOnly = c.req.header('authorization')?.startsWith('Bearer ') && !c.req.header('cookie');
    if (!SAFE_METHODS.has(c.req.method) && !bearerOnly) {
      const own = requestOrigin(c.req.url, { get: (n) => c.req.header(n) }, trustProxy);
      let origin = c.req.header('origin');
      if (!origin) {
        const referer = c.req.header('referer');
        origin = referer && URL.canParse(referer) ? new URL(referer).origin : undefined;
      }
      if (!isAllowedOrigin(origin, own, allowed)) {
        throw new AppError('origin_rejected', 'This request did not come from Pulse (Origin check failed)');
      }
    }
    await next();
  });
