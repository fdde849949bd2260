import { createMiddleware } from 'hono/factory';
import type { Db } from '../data/db.js';
import { AppError } from '../errors.js';
import type { AppEnv } from '../http/env.js';
import { looksLikeApiToken, resolveApiToken } from '../services/integrations/api-tokens.js';
import { routeAccess } from './scopes.js';

/**
 * `Authorization: Bearer pulse_…`: resolves the API token to the user it acts as (looked up on
 * every request, so a revocation or an expiry is effective at once), then lets it through only
 * to routes the scope table (scopes.ts) opens to a scope it holds. A request with a token is that
 * token's, whatever cookie it also carries. Other bearer values are left to the routes that take
 * the legacy INTEGRATION_TOKEN.
 */
export const apiTokenMiddleware = (db: Db) =>
  createMiddleware<AppEnv>(async (c, next) => {
    c.set('apiToken', null);
    const header = c.req.header('authorization');
    const secret = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (!secret || !looksLikeApiToken(secret)) return next();
    const token = await resolveApiToken(db, secret, c.var.ip);
    if (!token) throw new AppError('unauthenticated', 'This API token is unknown, revoked or expired');
    c.set('session', null);
    c.set('user', token.user);
    c.set('apiToken', { id: token.id, scopes: token.scopes });
    const access = routeAccess(c.req.method, c.req.path);
    if (access === 'open') return next();
    if (access === undefined || access === 'session')
      throw new AppError(
        'forbidden',
        `${c.req.method} ${c.req.path} is for signed-in users; API tokens cannot call it`
      );
    if (!token.scopes.includes(access))
      throw new AppError('forbidden', `This API token lacks the ${access} scope`, { scope: access });
    await next();
  });
