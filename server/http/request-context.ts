import { getConnInfo } from '@hono/node-server/conninfo';
import { createMiddleware } from 'hono/factory';
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { AppEnv } from './env.js';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

/** Request id, client address and a per-request child logger; one log line per request. */
export const requestContext = (logger: Logger, trustProxy: boolean) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    c.set('requestId', requestId);
    c.set('ip', clientAddress(c, trustProxy));
    c.set('log', logger.child({ requestId }));
    c.set('user', null);
    c.set('session', null);
    c.set('apiToken', null);
    const started = performance.now();
    await next();
    c.header('X-Request-Id', requestId);
    c.var.log.info(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - started)
      },
      'request'
    );
  });

/**
 * The client's address; behind a trusted proxy, the one the proxy added to X-Forwarded-For: the
 * last entry (entries before it are whatever the client sent, and the address is stored as inet).
 */
function clientAddress(
  c: Parameters<Parameters<typeof createMiddleware<AppEnv>>[0]>[0],
  trustProxy: boolean
) {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',').at(-1)?.trim();
    if (forwarded && isIP(forwarded)) return forwarded;
  }
  try {
    const address = getConnInfo(c).remote.address ?? null;
    return address?.startsWith('::ffff:') ? address.slice(7) : address;
  } catch {
    return null;
  }
}
