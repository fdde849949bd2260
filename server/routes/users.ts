import { Hono } from 'hono';
import { CreateUserBody, IdParam, UpdateUserBody } from '#shared/schemas/people.js';
import { requireRole } from '../auth/middleware.js';
import { actorOf, type AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import { createUser, listUsers, updateUser } from '../services/users.js';

/** User administration: admins only. */
export const userRoutes = () =>
  new Hono<AppEnv>()
    .use(requireRole('admin'))
    .get('/', async (c) => c.json({ users: await listUsers() }))
    .post('/', validate('json', CreateUserBody), async (c) => {
      const user = await createUser(c.req.valid('json'), actorOf(c));
      return c.json({ user }, 201);
    })
    .patch('/:id', validate('param', IdParam), validate('json', UpdateUserBody), async (c) => {
      const user = await updateUser(c.req.valid('param').id, c.req.valid('json'), actorOf(c));
      return c.json({ user });
    });
