import { timingSafeEqual } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import type { UserRole } from '#shared/enums.js';
import { AppError } from '../errors.js';
import type { AppEnv } from '../http/env.js';

const sameToken = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * For endpoints integrations call (inbound messages, CSAT): a bearer token equal to
 * INTEGRATION_TOKEN, or a signed-in user with one of `roles`.
 */
export const integrationOrRole = (token: string | undefined, ...roles: UserRole[]) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const auth = c.req.header('authorization');
    if (auth?.startsWith('Bearer ')) {
      if (!token || !sameToken(auth.slice(7), token))
        throw new AppError('unauthenticated', 'Invalid integration token');
      return next();
    }
    if (!c.var.user) throw new AppError('unauthenticated', 'Sign in, or send an integration token');
    if (!roles.includes(c.var.user.role))
      throw new AppError('forbidden', `This needs an integration token or the ${roles.join(' or ')} role`);
    await next();
  });
