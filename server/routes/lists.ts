import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import { LIST_ROLES, listQuerySchema, visibleColumns, type ListEntity } from '#shared/lists/query.js';
import { CreateViewBody, UpdateViewBody, ViewIdParam, ViewListQuery } from '#shared/lists/views.js';
import { requireRole, requireUser } from '../auth/middleware.js';
import type { AppDeps } from '../deps.js';
import { actorOf, type AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import { exportCsv } from '../services/lists/csv.js';
import { listRows, summarize } from '../services/lists/rows.js';
import { createView, deleteView, listViews, updateView } from '../services/lists/views.js';
import { fieldValues } from '../services/lists/values.js';
import { fieldValuesQuerySchema } from '#shared/lists/values.js';

/**
 * A CRM table: `GET /` one page (the query string is the contract's encodeListState), `/summary`
 * the footer's aggregates of the filtered set, `/export.csv` the filtered set streamed as CSV.
 */
export const listRoutes = ({ db, config }: AppDeps, entity: ListEntity) =>
  new Hono<AppEnv>()
    .get('/', requireRole(...LIST_ROLES[entity]), validate('query', listQuerySchema(entity)), async (c) =>
      c.json(await listRows(db, actorOf(c), entity, c.req.valid('query')))
    )
    .get(
      '/summary',
      requireRole(...LIST_ROLES[entity]),
      validate('query', listQuerySchema(entity)),
      async (c) =>
        c.json(await summarize(db, actorOf(c), entity, c.req.valid('query'), config.FOOTER_TIMEOUT_MS))
    )
    // The distinct values of a data-driven enum field (country, category, currency) for the filter picker.
    .get(
      '/values',
      requireRole(...LIST_ROLES[entity]),
      validate('query', fieldValuesQuerySchema(entity)),
      async (c) => c.json(await fieldValues(db, entity, c.req.valid('query')))
    )
    .get(
      '/export.csv',
      requireRole(...LIST_ROLES[entity]),
      validate('query', listQuerySchema(entity)),
      (c) => {
        const query = { ...c.req.valid('query'), cursor: undefined };
        const chunks = exportCsv(db, actorOf(c), entity, query, visibleColumns(entity, query));
        const day = new Date().toISOString().slice(0, 10);
        c.header('Content-Type', 'text/csv; charset=utf-8');
        c.header('Content-Disposition', `attachment; filename="${entity}-${day}.csv"`);
        c.header('Cache-Control', 'no-store');
        return stream(
          c,
          async (out) => {
            for await (const chunk of chunks) {
              if (out.aborted) break;
              await out.write(chunk);
            }
          },
          async (err, out) => {
            c.var.log.error({ err, entity }, 'CSV export failed mid-stream');
            await out.write('\r\n# export interrupted: the file is incomplete\r\n');
          }
        );
      }
    );

/** Saved views of the tables: personal, shared with the owner's team, or with everyone. */
export const viewRoutes = ({ db }: AppDeps) =>
  new Hono<AppEnv>()
    .get('/', requireUser, validate('query', ViewListQuery), async (c) =>
      c.json({ views: await listViews(db, actorOf(c), c.req.valid('query').entity) })
    )
    .post('/', requireUser, validate('json', CreateViewBody), async (c) =>
      c.json({ view: await createView(db, actorOf(c), c.req.valid('json')) }, 201)
    )
    .patch('/:id', requireUser, validate('param', ViewIdParam), validate('json', UpdateViewBody), async (c) =>
      c.json({ view: await updateView(db, actorOf(c), c.req.valid('param').id, c.req.valid('json')) })
    )
    .delete('/:id', requireUser, validate('param', ViewIdParam), async (c) => {
      await deleteView(db, actorOf(c), c.req.valid('param').id);
      return c.json({ ok: true as const });
    });
