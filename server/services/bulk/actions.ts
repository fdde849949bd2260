import type { BulkAction, BulkEntity } from '#shared/schemas/bulk.js';
import { checkAttributeValue, type AttributeDefinition } from '#shared/rules/attribute-values.js';
import type { Db } from '../../data/db.js';
import { AppError } from '../../errors.js';

// What each bulk action does to one batch of rows. The runner has already locked the rows it
// hands over (writes) and decides what happens to rows it could not lock or that are gone; an
// action changes what needs changing and says, for the rest, why it left them alone.

/** The base table of each entity. */
export const TABLES: Record<BulkEntity, string> = {
  customers: 'public.customers',
  orders: 'public.orders',
  products: 'public.products'
};

/** The entity's name in custom_attribute_definitions. */
const ATTRIBUTE_ENTITY: Record<BulkEntity, string> = {
  customers: 'customer',
  orders: 'order',
  products: 'product'
};

/**
 * Statuses an order may be marked fulfilled from. The order lifecycle is pending → paid →
 * fulfilled → shipped → delivered (cancel from pending or paid, refund after payment, see
 * services/orders.ts): only a paid order is waiting to be fulfilled.
 */
export const FULFIL_FROM = ['paid'] as const;

export interface BatchResult {
  /** Rows the action changed. */
  updated: number[];
  /** Rows it left alone, by reason ("already had the tags"). */
  skipped: Record<string, number[]>;
}

export interface ActionDef {
  /** False for actions that only read (export): their rows are not locked. */
  writes: boolean;
  /**
   * Checks the parameters against the database (attribute definitions, categories) before the
   * job is accepted, and returns them normalised. Throws a 400 when they do not fit.
   */
  prepare?(db: Db, entity: BulkEntity, params: Record<string, unknown>): Promise<Record<string, unknown>>;
  apply(db: Db, entity: BulkEntity, params: Record<string, unknown>, ids: number[]): Promise<BatchResult>;
}

const returnedIds = (rows: { id: number }[]) => rows.map((r) => Number(r.id));

/** `ids` minus `done`, as the skipped list of one reason (nothing when all were done). */
function rest(ids: number[], done: number[], reason: string): Record<string, number[]> {
  const changed = new Set(done);
  const left = ids.filter((id) => !changed.has(id));
  return left.length ? { [reason]: left } : {};
}

const uniqueTags = (params: Record<string, unknown>) => ({ tags: [...new Set(params.tags as string[])] });

const addTags: ActionDef = {
  writes: true,
  prepare: async (_db, _entity, params) => uniqueTags(params),
  async apply(db, entity, params, ids) {
    const rows = await db.query<{ id: number }>(
      `UPDATE ${TABLES[entity]} r
          SET tags = r.tags || ARRAY(SELECT t FROM unnest($2::text[]) AS t WHERE t <> ALL (r.tags))
        WHERE r.id = ANY ($1::int[]) AND NOT (r.tags @> $2::text[])
        RETURNING r.id`,
      [ids, params.tags]
    );
    const updated = returnedIds(rows);
    return { updated, skipped: rest(ids, updated, 'already had the tags') };
  }
};

const removeTags: ActionDef = {
  writes: true,
  prepare: async (_db, _entity, params) => uniqueTags(params),
  async apply(db, entity, params, ids) {
    const rows = await db.query<{ id: number }>(
      `UPDATE ${TABLES[entity]} r
          SET tags = ARRAY(SELECT t FROM unnest(r.tags) WITH ORDINALITY AS u (t, n)
                            WHERE t <> ALL ($2::text[]) ORDER BY n)
        WHERE r.id = ANY ($1::int[]) AND r.tags && $2::text[]
        RETURNING r.id`,
      [ids, params.tags]
    );
    const updated = returnedIds(rows);
    return { updated, skipped: rest(ids, updated, 'had none of the tags') };
  }
};

const setAttribute: ActionDef = {
  writes: true,
  async prepare(db, entity, params) {
    const [definition] = await db.query<AttributeDefinition>(
      `SELECT key, label, type, options FROM custom_attribute_definitions WHERE entity = $1 AND key = $2`,
      [ATTRIBUTE_ENTITY[entity], params.key]
    );
    if (!definition)
      throw new AppError('validation_failed', `No custom attribute ${String(params.key)} on ${entity}`, [
        { path: 'params.key', message: 'unknown attribute' }
      ]);
    const checked = checkAttributeValue(definition, params.value ?? null);
    if (!checked.ok)
      throw new AppError('validation_failed', checked.message, [
        { path: 'params.value', message: checked.message }
      ]);
    return { key: definition.key, value: checked.value };
  },
  async apply(db, entity, params, ids) {
    const clearing = params.value === null;
    const rows = await db.query<{ id: number }>(
      clearing
        ? `UPDATE ${TABLES[entity]} r SET attributes = r.attributes - $2::text
            WHERE r.id = ANY ($1::int[]) AND r.attributes ? $2::text RETURNING r.id`
        : `UPDATE ${TABLES[entity]} r SET attributes = jsonb_set(r.attributes, ARRAY[$2::text], $3::jsonb)
            WHERE r.id = ANY ($1::int[]) AND r.attributes -> $2::text IS DISTINCT FROM $3::jsonb RETURNING r.id`,
      clearing ? [ids, params.key] : [ids, params.key, JSON.stringify(params.value)]
    );
    const updated = returnedIds(rows);
    return { updated, skipped: rest(ids, updated, clearing ? 'had no value' : 'already had that value') };
  }
};

const markFulfilled: ActionDef = {
  writes: true,
  async apply(db, _entity, _params, ids) {
    const rows = await db.query<{ id: number }>(
      `UPDATE public.orders SET status = 'fulfilled'
        WHERE id = ANY ($1::int[]) AND status = ANY ($2::order_status[]) RETURNING id`,
      [ids, FULFIL_FROM]
    );
    const updated = returnedIds(rows);
    const done = new Set(updated);
    const left = ids.filter((id) => !done.has(id));
    const skipped: Record<string, number[]> = {};
    if (left.length) {
      const byStatus = await db.query<{ status: string; ids: number[] }>(
        `SELECT status::text, array_agg(id ORDER BY id) AS ids FROM public.orders WHERE id = ANY ($1::int[]) GROUP BY status`,
        [left]
      );
      for (const { status, ids: some } of byStatus) skipped[skipReasonForStatus(status)] = some.map(Number);
    }
    return { updated, skipped };
  }
};

/** Why an order in `status` is not marked fulfilled. */
export function skipReasonForStatus(status: string): string {
  if (status === 'fulfilled') return 'already fulfilled';
  if (status === 'pending') return 'not paid yet';
  return `already ${status}`;
}

const setCategory: ActionDef = {
  writes: true,
  async prepare(db, _entity, params) {
    const categoryId = params.categoryId as number | null;
    if (categoryId !== null) {
      const [found] = await db.query(`SELECT 1 FROM categories WHERE id = $1`, [categoryId]);
      if (!found)
        throw new AppError('validation_failed', `No category ${categoryId}`, [
          { path: 'params.categoryId', message: 'unknown category' }
        ]);
    }
    return { categoryId };
  },
  async apply(db, _entity, params, ids) {
    const rows = await db.query<{ id: number }>(
      `UPDATE public.products SET category_id = $2
        WHERE id = ANY ($1::int[]) AND category_id IS DISTINCT FROM $2 RETURNING id`,
      [ids, params.categoryId]
    );
    const updated = returnedIds(rows);
    return { updated, skipped: rest(ids, updated, 'already in that category') };
  }
};

const setStatus: ActionDef = {
  writes: true,
  async apply(db, _entity, params, ids) {
    const active = params.status === 'active';
    const rows = await db.query<{ id: number }>(
      `UPDATE public.products SET active = $2 WHERE id = ANY ($1::int[]) AND active <> $2 RETURNING id`,
      [ids, active]
    );
    const updated = returnedIds(rows);
    return { updated, skipped: rest(ids, updated, `already ${params.status}`) };
  }
};

export const ACTIONS: Record<Exclude<BulkAction, 'export'>, ActionDef> = {
  add_tags: addTags,
  remove_tags: removeTags,
  set_attribute: setAttribute,
  mark_fulfilled: markFulfilled,
  set_category: setCategory,
  set_status: setStatus
};
