import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { DismissBody, DuplicatesQuery, MergeBody, MergePreviewQuery } from '#shared/schemas/merge.js';
import { IdParam } from '#shared/schemas/people.js';
import { requireRole, requireUser } from '../auth/middleware.js';
import type { Db } from '../data/db.js';
import type { AppDeps } from '../deps.js';
import { notFound } from '../errors.js';
import { actorOf, type AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import { dismissDuplicate, duplicatesOf, listDuplicatePairs } from '../services/customers/duplicates.js';
import { mergeCustomers, mergePreview, mergesOf, resolveCustomerId } from '../services/customers/merge.js';

const managers = requireRole('manager', 'admin');

/**
 * A merged-away customer id is an alias: a GET of it answers 308 to the same path of the customer
 * it was merged into (the browser's fetch follows it; the page then shows the survivor's URL).
 */
export const aliasRedirect = (db: Db) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const id = Number(c.req.param('id'));
    const resolved = Number.isInteger(id) && id > 0 ? await resolveCustomerId(db, id) : null;
    if (!resolved?.mergedInto) return next();
    const url = new URL(c.req.url);
    url.pathname = url.pathname.replace(/\/customers\/\d+/, `/customers/${resolved.mergedInto}`);
    return c.redirect(`${url.pathname}${url.search}`, 308);
  });

/** Under /api/customers: a customer's duplicate suggestions, its merges, the merge itself. */
export const customerMergeRoutes = ({ db }: AppDeps) =>
  new Hono<AppEnv>()
    .get('/:id/duplicates', requireUser, validate('param', IdParam), async (c) =>
      c.json({ candidates: await duplicatesOf(db, actorOf(c), c.req.valid('param').id) })
    )
    .get('/:id/resolve', requireUser, validate('param', IdParam), async (c) => {
      const resolved = await resolveCustomerId(db, c.req.valid('param').id);
      if (!resolved) throw notFound('Customer');
      return c.json(resolved);
    })
    .get('/:id/merges', requireUser, validate('param', IdParam), async (c) => {
      const id = c.req.valid('param').id;
      if (!(await resolveCustomerId(db, id))) throw notFound('Customer');
      return c.json({ merges: await mergesOf(db, { customerId: id }) });
    })
    .get(
      '/:id/merge-preview',
      managers,
      validate('param', IdParam),
      validate('query', MergePreviewQuery),
      async (c) =>
        c.json(await mergePreview(db, actorOf(c), c.req.valid('param').id, c.req.valid('query').with))
    )
    .post('/:id/merge', managers, validate('param', IdParam), validate('json', MergeBody), async (c) => {
      const merge = await mergeCustomers(db, actorOf(c), c.req.valid('param').id, c.req.valid('json'));
      return c.json({ merge });
    });

/** The duplicates screen: every suggested pair, and "not a duplicate". */
export const duplicateRoutes = ({ db }: AppDeps) =>
  new Hono<AppEnv>()
    .get('/', managers, validate('query', DuplicatesQuery), async (c) =>
      c.json(await listDuplicatePairs(db, actorOf(c), c.req.valid('query')))
    )
    .post('/dismiss', managers, validate('json', DismissBody), async (c) =>
      c.json(await dismissDuplicate(db, actorOf(c), c.req.valid('json')))
    );
