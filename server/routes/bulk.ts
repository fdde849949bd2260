import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import { BulkListQuery, BulkRequest } from '#shared/schemas/bulk.js';
import { IdParam } from '#shared/schemas/people.js';
import { requireUser } from '../auth/middleware.js';
import type { AppDeps } from '../deps.js';
import { actorOf, type AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import { cancelBulkJob, createBulkJob, getBulkJob, listBulkJobs, openExport } from '../services/bulk/jobs.js';

/**
 * Bulk actions: start one over a selection (202, the server runs it in batches), follow it,
 * cancel it, download an export. Who may start what is decided in the service (agents may tag
 * the few customers they picked; all matching rows are for managers and admins).
 */
export const bulkRoutes = ({ db, bulk }: AppDeps) =>
  new Hono<AppEnv>()
    .post('/', requireUser, validate('json', BulkRequest), async (c) => {
      const job = await createBulkJob(db, actorOf(c), c.req.valid('json'));
      bulk?.wake();
      return c.json({ job }, 202);
    })
    .get('/', requireUser, validate('query', BulkListQuery), async (c) =>
      c.json(await listBulkJobs(db, actorOf(c), c.req.valid('query')))
    )
    .get('/:id', requireUser, validate('param', IdParam), async (c) =>
      c.json({ job: await getBulkJob(db, actorOf(c), c.req.valid('param').id) })
    )
    .post('/:id/cancel', requireUser, validate('param', IdParam), async (c) => {
      const job = await cancelBulkJob(db, actorOf(c), c.req.valid('param').id);
      bulk?.announce(job);
      return c.json({ job });
    })
    .get('/:id/export.csv', requireUser, validate('param', IdParam), async (c) => {
      const file = await openExport(db, actorOf(c), c.req.valid('param').id);
      c.header('Content-Type', 'text/csv; charset=utf-8');
      c.header('Content-Disposition', `attachment; filename="${file.fileName}"`);
      return stream(c, async (out) => {
        for await (const part of file.parts) await out.write(part);
      });
    });
