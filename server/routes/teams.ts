import { Hono } from 'hono';
import { IdParam, TeamBody, TeamPatch } from '#shared/schemas/people.js';
import { requireRole, requireUser } from '../auth/middleware.js';
import { actorOf, type AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import { createTeam, listTeams, updateTeam } from '../services/teams.js';

/** Every signed-in user reads teams; managers and admins manage them. */
export const teamRoutes = () =>
  new Hono<AppEnv>()
    .get('/', requireUser, async (c) => c.json({ teams: await listTeams() }))
    .post('/', requireRole('manager', 'admin'), validate('json', TeamBody), async (c) => {
      const team = await createTeam(c.req.valid('json').name, actorOf(c));
      return c.json({ team }, 201);
    })
    .patch(
      '/:id',
      requireRole('manager', 'admin'),
      validate('param', IdParam),
      validate('json', TeamPatch),
      async (c) => {
        const team = await updateTeam(c.req.valid('param').id, c.req.valid('json'), actorOf(c));
        return c.json({ team });
      }
    );
