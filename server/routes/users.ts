import { Hono } from 'hono';
import { CreateUserBody, IdParam, UpdateUserBody } from '#shared/schemas/people.js';
import { requireRole } from '../auth/middleware.js';
import type { AppDeps } from '../deps.js';
import { actorOf, type AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import { createUser, listUsers, updateUser } from '../services/users.js';

/** User administration: admins only. */
export const userRoutes = ({ db }: AppDeps) =>
  new Hono<AppEnv>()
    .use(requireRole('admin'))
    .get('/', async (c) => c.json({ users: await listUsers(db) }))
    .post('/', validate('json', CreateUserBody), async (c) => {
      const user = await createUser(db, actorOf(c), c.req.valid('json'));
      return c.json({ user }, 201);
    })
    .patch('/:id', validate('param', IdParam), validate('json', UpdateUserBody), async (c) => {
      const user = await updateUser(db, actorOf(c), {
        id: c.req.valid('param').id,
        changes: c.req.valid('json')
      });
      return c.json({ user });
    });
