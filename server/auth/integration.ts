import { timingSafeEqual } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import type { UserRole } from '#shared/enums.js';
import { AppError } from '../errors.js';
import type { AppEnv } from '../http/env.js';
import { describedBy } from '../http/route-doc.js';

const sameToken = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** How often a process repeats the deprecation warning while INTEGRATION_TOKEN is still in use. */
const DEPRECATION_WARNING_EVERY_MS = 60 * 60 * 1000;
let lastWarning = -Infinity;

export const INTEGRATION_TOKEN_DEPRECATION =
  'INTEGRATION_TOKEN is deprecated and goes away in the next release: create an API token (admin screen or npm run token:create) and send it instead';

/**
 * For endpoints integrations call (inbound messages, CSAT): an API token with the route's scope
 * (checked by token-auth.ts before this runs), the deprecated bearer INTEGRATION_TOKEN, or a
 * signed-in user with one of `roles`.
 */
export const integrationOrRole = (token: string | undefined, ...roles: UserRole[]) =>
  describedBy(integrationOrRoleMiddleware(token, roles), { roles, integration: true });

const integrationOrRoleMiddleware = (token: string | undefined, roles: UserRole[]) =>
  createMiddleware<AppEnv>(async (c, next) => {
    if (c.var.apiToken) return next();
    const auth = c.req.header('authorization');
    if (auth?.startsWith('Bearer ')) {
      if (!token || !sameToken(auth.slice(7), token))
        throw new AppError('unauthenticated', 'Invalid integration token');
      const now = performance.now();
      if (now - lastWarning >= DEPRECATION_WARNING_EVERY_MS) {
        lastWarning = now;
        c.var.log.warn({ route: `${c.req.method} ${c.req.path}` }, INTEGRATION_TOKEN_DEPRECATION);
      }
      return next();
    }
    if (!c.var.user) throw new AppError('unauthenticated', 'Sign in, or send an integration token');
    if (!roles.includes(c.var.user.role))
      throw new AppError('forbidden', `This needs an integration token or the ${roles.join(' or ')} role`);
    await next();
  });
