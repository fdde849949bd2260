import type { MiddlewareHandler } from 'hono';
import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import { IdParam } from '#shared/schemas/people.js';
import {
  ImportListQuery,
  PreviewBody,
  RejectsQuery,
  StartImportBody,
  UploadQuery
} from '#shared/schemas/imports.js';
import { requireRole } from '../auth/middleware.js';
import type { AppDeps } from '../deps.js';
import { actorOf, type AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import {
  createUpload,
  getImport,
  listImports,
  listRejects,
  openFailedRows,
  previewUpload,
  startImport
} from '../services/integrations/import/jobs.js';

/** Where files are uploaded: its body is streamed into the database, not held (see uploads below). */
export const IMPORT_UPLOAD_PATH = '/api/imports/uploads';

/** The API's body limit for every route but the upload, which has its own (IMPORT_MAX_MIB). */
export const exceptImportUploads =
  (limit: MiddlewareHandler): MiddlewareHandler =>
  (c, next) =>
    c.req.method === 'POST' && c.req.path === IMPORT_UPLOAD_PATH ? next() : limit(c, next);

/**
 * Imports, for managers and admins (sessions only: a file upload from a screen; an integration
 * writes through the entities' own endpoints). Upload a file (raw body; answers the detection,
 * suggested mapping and first rows), preview it again with other options, start a run or a dry
 * run (202; the server runs it, progress arrives as `import:progress`), follow it, read its
 * rejected rows, download them as a CSV to fix.
 */
export const importRoutes = ({ db, config, imports }: AppDeps) =>
  new Hono<AppEnv>()
    .use(requireRole('manager', 'admin'))
    .post('/uploads', validate('query', UploadQuery), async (c) => {
      const { entity, name } = c.req.valid('query');
      const body = c.req.raw.body as unknown as AsyncIterable<Uint8Array> | null;
      const preview = await createUpload(
        db,
        actorOf(c),
        { entity, name, maxBytes: config.IMPORT_MAX_MIB * 1024 * 1024 },
        body
      );
      return c.json({ preview }, 201);
    })
    .post('/uploads/:id/preview', validate('param', IdParam), validate('json', PreviewBody), async (c) =>
      c.json({ preview: await previewUpload(db, actorOf(c), c.req.valid('param').id, c.req.valid('json')) })
    )
    .post('/', validate('json', StartImportBody), async (c) => {
      const job = await startImport(db, actorOf(c), c.req.valid('json'));
      imports?.wake();
      return c.json({ job }, 202);
    })
    .get('/', validate('query', ImportListQuery), async (c) =>
      c.json(await listImports(db, actorOf(c), c.req.valid('query')))
    )
    .get('/:id', validate('param', IdParam), async (c) =>
      c.json({ job: await getImport(db, actorOf(c), c.req.valid('param').id) })
    )
    .get('/:id/rejects', validate('param', IdParam), validate('query', RejectsQuery), async (c) =>
      c.json(await listRejects(db, actorOf(c), c.req.valid('param').id, c.req.valid('query')))
    )
    .get('/:id/failed-rows.csv', validate('param', IdParam), async (c) => {
      const file = await openFailedRows(db, actorOf(c), c.req.valid('param').id);
      c.header('Content-Type', 'text/csv; charset=utf-8');
      c.header('Content-Disposition', `attachment; filename="${file.fileName}"`);
      return stream(c, async (out) => {
        for await (const part of file.parts) await out.write(part);
      });
    });
