import { Hono } from 'hono';
import { CreateApiTokenBody } from '#shared/schemas/integrations.js';
import { IdParam } from '#shared/schemas/people.js';
import { requireRole } from '../auth/middleware.js';
import type { AppDeps } from '../deps.js';
import { actorOf, type AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import { createApiToken, listApiTokens, revokeApiToken } from '../services/integrations/api-tokens.js';

/** API tokens, managed by admins in a signed-in session (the scope table refuses them to tokens). */
export const apiTokenRoutes = ({ db }: AppDeps) =>
  new Hono<AppEnv>()
    .get('/', requireRole('admin'), async (c) => c.json({ tokens: await listApiTokens(db) }))
    .post('/', requireRole('admin'), validate('json', CreateApiTokenBody), async (c) =>
      c.json(await createApiToken(db, actorOf(c), c.req.valid('json')), 201)
    )
    .delete('/:id', requireRole('admin'), validate('param', IdParam), async (c) =>
      c.json({ token: await revokeApiToken(db, actorOf(c), c.req.valid('param').id) })
    );
