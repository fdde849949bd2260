import { Hono } from 'hono';
import { MovementsQuery, ProductPatch, ReviewsQuery, StockMovementBody } from '#shared/schemas/inventory.js';
import { IdParam } from '#shared/schemas/people.js';
import { requireRole, requireUser } from '../auth/middleware.js';
import type { AppDeps } from '../deps.js';
import { actorOf, type AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import { productDetail, stockMovements } from '../services/products/detail.js';
import { searchReviews } from '../services/products/reviews.js';
import { recordStockMovement, updateProduct } from '../services/products/stock.js';

/** A product's page, its stock movements, and the changes managers make to stock and threshold. */
export const productRoutes = ({ db }: AppDeps) =>
  new Hono<AppEnv>()
    .get('/:id', requireUser, validate('param', IdParam), async (c) =>
      c.json(await productDetail(db, c.req.valid('param').id))
    )
    .get(
      '/:id/stock-movements',
      requireUser,
      validate('param', IdParam),
      validate('query', MovementsQuery),
      async (c) => {
        const { id } = c.req.valid('param');
        const detail = await stockMovements(db, id, c.req.valid('query').cursor);
        if (detail.movements.length === 0) await productDetail(db, id); // 404 for a product that is not there
        return c.json(detail);
      }
    )
    .post(
      '/:id/stock-movements',
      requireRole('manager', 'admin'),
      validate('param', IdParam),
      validate('json', StockMovementBody),
      async (c) =>
        c.json(await recordStockMovement(db, actorOf(c), c.req.valid('param').id, c.req.valid('json')), 201)
    )
    .patch(
      '/:id',
      requireRole('manager', 'admin'),
      validate('param', IdParam),
      validate('json', ProductPatch),
      async (c) =>
        c.json({ product: await updateProduct(db, actorOf(c), c.req.valid('param').id, c.req.valid('json')) })
    );

/** Reviews, searched across every product or one. */
export const reviewRoutes = ({ db }: AppDeps) =>
  new Hono<AppEnv>().get('/', requireUser, validate('query', ReviewsQuery), async (c) =>
    c.json(await searchReviews(db, c.req.valid('query')))
  );
