import { z } from 'zod';
import { filterSchema, LIST_ENTITIES, MAX_SEARCH_LENGTH } from '../lists/query.js';
import { AttributeKey } from '../rules/attribute-values.js';

// Bulk actions: one action over every row a list matches (or the rows picked by id), run by the
// server in short batches. The browser starts a job, follows its progress and may cancel it.

export const BULK_ENTITIES = LIST_ENTITIES;
export type BulkEntity = (typeof BULK_ENTITIES)[number];

/** What each table offers. Orders have no tags column, so no tag actions there. */
export const BULK_ACTIONS = {
  customers: ['add_tags', 'remove_tags', 'set_attribute', 'export'],
  orders: ['mark_fulfilled', 'set_attribute', 'export'],
  products: ['set_category', 'set_status', 'set_attribute', 'export']
} as const satisfies Record<BulkEntity, readonly string[]>;
export type BulkAction = (typeof BULK_ACTIONS)[BulkEntity][number];
export const ALL_BULK_ACTIONS = [...new Set(Object.values(BULK_ACTIONS).flat())] as BulkAction[];

export const BULK_JOB_STATES = ['queued', 'running', 'done', 'cancelled', 'failed'] as const;
export type BulkJobState = (typeof BULK_JOB_STATES)[number];
export const FINISHED_STATES: readonly BulkJobState[] = ['done', 'cancelled', 'failed'];
export const isFinished = (state: BulkJobState) => FINISHED_STATES.includes(state);

/** Agents may tag a handful of customers they picked; acting on all matching rows is for managers. */
export const AGENT_BULK_LIMIT = 100;
export const AGENT_BULK_ACTIONS: readonly BulkAction[] = ['add_tags', 'remove_tags'];

/** Tags as customers carry them (the same rule as ticket tags). */
export const Tag = z.string().trim().toLowerCase().min(1).max(40);

export const BulkParams = {
  add_tags: z.object({ tags: z.array(Tag).min(1).max(20) }).strict(),
  remove_tags: z.object({ tags: z.array(Tag).min(1).max(20) }).strict(),
  // The value is checked against the attribute's definition by the server (its type lives in the database).
  set_attribute: z.object({ key: AttributeKey, value: z.unknown() }).strict(),
  mark_fulfilled: z.object({}).strict(),
  set_category: z.object({ categoryId: z.number().int().positive().max(2_147_483_647).nullable() }).strict(),
  set_status: z.object({ status: z.enum(['active', 'inactive']) }).strict(),
  /** The table's visible columns (its defaults when absent). */
  export: z.object({ columns: z.array(z.string().max(64)).min(1).max(40).optional() }).strict()
} as const satisfies Record<BulkAction, z.ZodType>;
export type BulkParamsOf<A extends BulkAction> = z.infer<(typeof BulkParams)[A]>;

const RowId = z.number().int().positive().max(2_147_483_647);
/** Most ids a selection may name; past that, select by filter. */
export const MAX_SELECTED_IDS = 10_000;

/**
 * Which rows: the list's search and filter ("all matching"), or the ids picked on screen, as the
 * list query has them (src/lib/shared/lists). Compiled by the lists service, which checks the
 * filter against the entity's fields.
 */
export const BulkSelection = z
  .object({
    q: z.string().trim().max(MAX_SEARCH_LENGTH).optional(),
    /** A FilterGroup of the entity's fields (checked against them with the entity, below). */
    filter: z.unknown().optional(),
    ids: z.array(RowId).min(1).max(MAX_SELECTED_IDS).optional()
  })
  .strict();
export type BulkSelection = z.infer<typeof BulkSelection>;

export const BulkRequest = z
  .object({
    entity: z.enum(BULK_ENTITIES),
    action: z.enum(ALL_BULK_ACTIONS as [BulkAction, ...BulkAction[]]),
    params: z.record(z.string(), z.unknown()).default({}),
    selection: BulkSelection
  })
  .strict()
  .superRefine((body, ctx) => {
    if (!(BULK_ACTIONS[body.entity] as readonly string[]).includes(body.action)) {
      ctx.addIssue({
        code: 'custom',
        path: ['action'],
        message: `${body.entity} offer ${BULK_ACTIONS[body.entity].join(', ')}`
      });
      return;
    }
    if (body.selection.filter !== undefined) {
      const filter = filterSchema(body.entity).safeParse(body.selection.filter);
      if (!filter.success)
        for (const issue of filter.error.issues)
          ctx.addIssue({
            code: 'custom',
            path: ['selection', 'filter', ...issue.path.map(String)],
            message: issue.message
          });
    }
    const params = BulkParams[body.action].safeParse(body.params);
    if (!params.success)
      for (const issue of params.error.issues)
        ctx.addIssue({ code: 'custom', path: ['params', ...issue.path.map(String)], message: issue.message });
  });
export type BulkRequest = z.infer<typeof BulkRequest>;

export const BulkListQuery = z.object({
  /** Only the caller's jobs (the default); `false` lists everyone's, for admins. */
  mine: z
    .enum(['true', 'false', ''])
    .optional()
    .transform((v) => v !== 'false'),
  limit: z.coerce.number().int().min(1).max(100).default(20)
});

export const BulkJob = z.object({
  id: z.number().int(),
  entity: z.enum(BULK_ENTITIES),
  action: z.enum(ALL_BULK_ACTIONS as [BulkAction, ...BulkAction[]]),
  params: z.record(z.string(), z.unknown()),
  selection: z.record(z.string(), z.unknown()),
  createdBy: z.number().int().nullable(),
  state: z.enum(BULK_JOB_STATES),
  /** Rows matched when the job started; null while it waits to start. */
  total: z.number().int().nullable(),
  processed: z.number().int(),
  updated: z.number().int(),
  skipped: z.number().int(),
  failed: z.number().int(),
  /** Why rows were skipped or failed, with how many each. */
  reasons: z.record(z.string(), z.number().int()),
  error: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  /** Export jobs that are done: where the file is. */
  downloadUrl: z.string().nullable()
});
export type BulkJob = z.infer<typeof BulkJob>;

/**
 * Whether `next` may replace `shown` on a screen: a finished job stays finished; progress never
 * goes back. `bulk:progress` events are applied by this rule (the tray), so one that arrives late
 * changes nothing.
 */
export function isFurther(next: BulkJob, shown: BulkJob | undefined): boolean {
  if (!shown) return true;
  if (isFinished(shown.state)) return false;
  if (isFinished(next.state)) return true;
  if (shown.state === 'running' && next.state === 'queued') return false;
  return next.processed >= shown.processed;
}
