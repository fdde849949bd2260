import { Hono } from 'hono';
import { IdParam, TeamBody, TeamPatch } from '#shared/schemas/people.js';
import { requireRole, requireUser } from '../auth/middleware.js';
import type { AppDeps } from '../deps.js';
import { actorOf, type AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import { createTeam, listTeams, updateTeam } from '../services/teams.js';

/** Every signed-in user reads teams; managers and admins manage them. */
export const teamRoutes = ({ db }: AppDeps) =>
  new Hono<AppEnv>()
    .get('/', requireUser, async (c) => c.json({ teams: await listTeams(db) }))
    .post('/', requireRole('manager', 'admin'), validate('json', TeamBody), async (c) => {
      const team = await createTeam(db, actorOf(c), c.req.valid('json'));
      return c.json({ team }, 201);
    })
    .patch(
      '/:id',
      requireRole('manager', 'admin'),
      validate('param', IdParam),
      validate('json', TeamPatch),
      async (c) => {
        const team = await updateTeam(db, actorOf(c), {
          id: c.req.valid('param').id,
          changes: c.req.valid('json')
        });
        return c.json({ team });
      }
    );
