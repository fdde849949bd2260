import { Hono } from 'hono';
import { CategoryBody } from '#shared/schemas/categories.js';
import { requireRole, requireUser } from '../auth/middleware.js';
import type { AppDeps } from '../deps.js';
import { actorOf, type AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import { createCategory, listCategories } from '../services/products/categories.js';

/** Product categories: everyone reads them (the products table shows them); managers and admins add one. */
export const categoryRoutes = ({ db }: AppDeps) =>
  new Hono<AppEnv>()
    .get('/', requireUser, async (c) => c.json({ categories: await listCategories(db) }))
    .post('/', requireRole('manager', 'admin'), validate('json', CategoryBody), async (c) =>
      c.json({ category: await createCategory(db, actorOf(c), c.req.valid('json')) }, 201)
    );
