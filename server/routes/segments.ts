import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import { IdParam } from '#shared/schemas/people.js';
import { SegmentDraft, SegmentInput, SegmentMembersQuery, SegmentPatch } from '#shared/schemas/segments.js';
import { requireRole, requireUser } from '../auth/middleware.js';
import type { AppDeps } from '../deps.js';
import { actorOf, type AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import { exportCsv } from '../services/lists/csv.js';
import { DEFAULT_SORT, visibleColumns } from '#shared/lists/query.js';
import {
  countRule,
  countSegment,
  createSegment,
  deleteSegment,
  getSegment,
  listSegments,
  previewRule,
  segmentMembers,
  updateSegment
} from '../services/segments/segments.js';

/** Everyone who sees customers reads segments (agents included); managers and admins edit them. */
const editors = requireRole('manager', 'admin');

export const segmentRoutes = ({ db }: AppDeps) =>
  new Hono<AppEnv>()
    .get('/', requireUser, async (c) => c.json({ segments: await listSegments(db) }))
    .post('/', editors, validate('json', SegmentInput), async (c) =>
      c.json({ segment: await createSegment(db, actorOf(c), c.req.valid('json')) }, 201)
    )
    // A draft rule (the builder, before saving): its count and its first members.
    .post('/count', requireUser, validate('json', SegmentDraft), async (c) =>
      c.json(await countRule(db, c.req.valid('json').rule))
    )
    .post('/preview', requireUser, validate('json', SegmentDraft), async (c) =>
      c.json({ members: await previewRule(db, c.req.valid('json').rule) })
    )
    .get('/:id', requireUser, validate('param', IdParam), async (c) =>
      c.json({ segment: await getSegment(db, c.req.valid('param').id) })
    )
    .patch('/:id', editors, validate('param', IdParam), validate('json', SegmentPatch), async (c) =>
      c.json({ segment: await updateSegment(db, actorOf(c), c.req.valid('param').id, c.req.valid('json')) })
    )
    .delete('/:id', editors, validate('param', IdParam), async (c) => {
      await deleteSegment(db, actorOf(c), c.req.valid('param').id);
      return c.body(null, 204);
    })
    .get('/:id/count', requireUser, validate('param', IdParam), async (c) =>
      c.json(await countSegment(db, c.req.valid('param').id))
    )
    .get(
      '/:id/members',
      requireUser,
      validate('param', IdParam),
      validate('query', SegmentMembersQuery),
      async (c) => c.json(await segmentMembers(db, c.req.valid('param').id, c.req.valid('query')))
    )
    // The members as CSV: the customers table's streamed export (formulas neutralised), filtered by segment.
    .get(
      '/:id/export.csv',
      requireRole('agent', 'manager', 'admin'),
      validate('param', IdParam),
      async (c) => {
        const segment = await getSegment(db, c.req.valid('param').id);
        const query = {
          filter: {
            op: 'and' as const,
            rules: [{ field: 'segment', operator: 'is_any_of' as const, value: [String(segment.id)] }]
          },
          sort: DEFAULT_SORT.customers,
          limit: 200
        };
        const chunks = exportCsv(db, actorOf(c), 'customers', query, visibleColumns('customers', {}));
        const slug =
          segment.name
            .toLowerCase()
            .replace(/[^a-z0-9]+/g, '-')
            .replace(/^-|-$/g, '') || 'segment';
        c.header('Content-Type', 'text/csv; charset=utf-8');
        c.header(
          'Content-Disposition',
          `attachment; filename="segment-${slug}-${new Date().toISOString().slice(0, 10)}.csv"`
        );
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
            c.var.log.error({ err, segment: segment.id }, 'segment CSV export failed mid-stream');
            await out.write('\r\n# export interrupted: the file is incomplete\r\n');
          }
        );
      }
    );
