import { z } from 'zod';
import type { UserRole } from '../enums.js';
import { CUSTOMER_FIELDS, type CustomerRow } from './customers.js';
import { fieldByKey, valueSchema, type FieldDef, type Operator } from './fields.js';
import { ORDER_FIELDS, type OrderRow } from './orders.js';
import { PRODUCT_FIELDS, type ProductRow } from './products.js';

// A list's whole state — search, filter, sort, columns — and the page being asked for. The URL
// holds all of it (encodeListState / decodeListState), so a pasted link reproduces the table, and
// the server decodes the very same query string with the very same rules.

export const LIST_ENTITIES = ['customers', 'orders', 'products'] as const;
export type ListEntity = (typeof LIST_ENTITIES)[number];

export const LIST_FIELDS: Record<ListEntity, readonly FieldDef[]> = {
  customers: CUSTOMER_FIELDS,
  orders: ORDER_FIELDS,
  products: PRODUCT_FIELDS
};

export interface ListRowOf {
  customers: CustomerRow;
  orders: OrderRow;
  products: ProductRow;
}

/** Agents support customers and their orders; everyone reads the catalogue; managers and admins see all. */
export const LIST_ROLES: Record<ListEntity, readonly UserRole[]> = {
  customers: ['agent', 'manager', 'admin'],
  orders: ['agent', 'manager', 'admin'],
  products: ['agent', 'manager', 'admin']
};
export const canViewList = (role: UserRole, entity: ListEntity) => LIST_ROLES[entity].includes(role);

export const SORT_DIRS = ['asc', 'desc'] as const;
export type SortDir = (typeof SORT_DIRS)[number];
export interface SortKey {
  field: string;
  dir: SortDir;
}

/** Newest first for people and orders, alphabetical for the catalogue. Ties break on id. */
export const DEFAULT_SORT: Record<ListEntity, SortKey[]> = {
  customers: [{ field: 'createdAt', dir: 'desc' }],
  orders: [{ field: 'orderDate', dir: 'desc' }],
  products: [{ field: 'name', dir: 'asc' }]
};

export const MAX_SORT_KEYS = 3;
/** A group inside a group inside the top group, no deeper. */
export const MAX_FILTER_DEPTH = 3;
export const MAX_FILTER_RULES = 50;
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;
export const MAX_IDS = 200;
export const MAX_SEARCH_LENGTH = 200;
export const MAX_CURSOR_LENGTH = 1024;

export interface FilterRule {
  field: string;
  operator: Operator;
  /** Per field type and operator, see `valueSchema`; absent for is_empty / is_not_empty. */
  value?: unknown;
}
export interface FilterGroup {
  op: 'and' | 'or';
  rules: (FilterRule | FilterGroup)[];
}
export const isFilterGroup = (node: FilterRule | FilterGroup): node is FilterGroup =>
  'rules' in node && Array.isArray((node as FilterGroup).rules);

/** What a saved view holds and a URL reproduces. */
export interface ListState {
  q?: string;
  filter?: FilterGroup;
  sort: SortKey[];
  /** Visible columns in order; absent means the fields' defaultVisible. */
  columns?: string[];
}

/** A request for one page of a list (or, with `ids`, for which of these rows match). */
export interface ListQuery extends ListState {
  /** Opaque, from the previous page's `nextCursor`. */
  cursor?: string;
  limit: number;
  /** Only these rows (still subject to q and filter): how a live client asks "do these still match?". */
  ids?: number[];
}

export interface ListPage<Row> {
  rows: Row[];
  nextCursor: string | null;
}

/** Aggregates of the whole filtered set (not the page). Money as exact decimal strings. */
export const ListSummary = z.object({
  count: z.number().int(),
  /** Money field key -> sum, e.g. { total: "12345.60" }. */
  sums: z.record(z.string(), z.string()),
  /** Money field key -> average rounded to cents; absent for an empty set. */
  averages: z.record(z.string(), z.string()),
  /**
   * Present when counting the set took longer than a footer may: `count` is then the planner's
   * estimate (to be shown as one), and there are no sums or averages.
   */
  estimated: z.literal(true).optional()
});
export type ListSummary = z.infer<typeof ListSummary>;

// Validation ---------------------------------------------------------------------------------

const RuleShape = z.object({
  field: z.string().max(64),
  operator: z.string().max(32),
  value: z.unknown().optional()
});
const GroupShape = z.object({ op: z.enum(['and', 'or']), rules: z.array(z.unknown()).max(MAX_FILTER_RULES) });

/** Checks a filter tree against an entity's fields; issues name the path of what is wrong. */
function checkFilter(
  fields: readonly FieldDef[],
  node: unknown,
  ctx: z.RefinementCtx,
  path: (string | number)[],
  depth: number,
  counter: { rules: number }
): void {
  const group = GroupShape.safeParse(node);
  if (group.success) {
    if (depth > MAX_FILTER_DEPTH) {
      ctx.addIssue({ code: 'custom', path, message: `filter groups nest at most ${MAX_FILTER_DEPTH} deep` });
      return;
    }
    group.data.rules.forEach((child, i) =>
      checkFilter(fields, child, ctx, [...path, 'rules', i], depth + 1, counter)
    );
    return;
  }
  const rule = RuleShape.safeParse(node);
  if (!rule.success) {
    ctx.addIssue({
      code: 'custom',
      path,
      message: 'expected a rule {field, operator, value} or a group {op, rules}'
    });
    return;
  }
  if (++counter.rules > MAX_FILTER_RULES) {
    ctx.addIssue({ code: 'custom', path, message: `at most ${MAX_FILTER_RULES} rules` });
    return;
  }
  const field = fieldByKey(fields, rule.data.field);
  if (!field || !field.filterable) {
    ctx.addIssue({ code: 'custom', path: [...path, 'field'], message: `unknown field "${rule.data.field}"` });
    return;
  }
  const schema = valueSchema(field, rule.data.operator);
  if (!schema) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'operator'],
      message: `operator "${rule.data.operator}" does not apply to ${field.type} field "${field.key}"`
    });
    return;
  }
  const value = schema.safeParse(rule.data.value);
  if (!value.success)
    for (const issue of value.error.issues)
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'value', ...issue.path.map(String)],
        message: issue.message
      });
}

/** A filter tree valid for `entity` (an object, as saved views hold it). */
export const filterSchema = (entity: ListEntity) =>
  z.unknown().superRefine((node, ctx) => {
    if (!GroupShape.safeParse(node).success) {
      ctx.addIssue({ code: 'custom', message: 'the filter is a group {op: "and" | "or", rules: [...]}' });
      return;
    }
    checkFilter(LIST_FIELDS[entity], node, ctx, [], 1, { rules: 0 });
  }) as unknown as z.ZodType<FilterGroup>;

const sortSchema = (entity: ListEntity) =>
  z
    .array(z.object({ field: z.string().max(64), dir: z.enum(SORT_DIRS) }))
    .min(1)
    .max(MAX_SORT_KEYS)
    .superRefine((keys, ctx) => {
      const seen = new Set<string>();
      keys.forEach((key, i) => {
        const field = fieldByKey(LIST_FIELDS[entity], key.field);
        if (!field || !field.sortable)
          ctx.addIssue({ code: 'custom', path: [i, 'field'], message: `cannot sort by "${key.field}"` });
        if (seen.has(key.field))
          ctx.addIssue({ code: 'custom', path: [i, 'field'], message: `"${key.field}" sorted twice` });
        seen.add(key.field);
      });
    });

const columnsSchema = (entity: ListEntity) =>
  z
    .array(z.string().max(64))
    .max(LIST_FIELDS[entity].length)
    .superRefine((cols, ctx) =>
      cols.forEach((c, i) => {
        if (fieldByKey(LIST_FIELDS[entity], c)?.column === false || !fieldByKey(LIST_FIELDS[entity], c))
          ctx.addIssue({ code: 'custom', path: [i], message: `unknown column "${c}"` });
      })
    );

const searchSchema = z.string().trim().max(MAX_SEARCH_LENGTH);

/** A list state as an object (what a saved view stores). */
export const listStateSchema = (entity: ListEntity) =>
  z.object({
    q: searchSchema.optional(),
    filter: filterSchema(entity).optional(),
    sort: sortSchema(entity).default(DEFAULT_SORT[entity]),
    columns: columnsSchema(entity).optional()
  });

// URL encoding -------------------------------------------------------------------------------
//   q=jonh  filter={"op":"and","rules":[...]}  sort=-total,name  columns=name,email,total
//   limit=50  cursor=<opaque>  ids=1,2,3

const csvList = z.string().transform((s) => s.split(',').filter((part) => part.length > 0));

const jsonText = z
  .string()
  .max(20000)
  .transform((s, ctx) => {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'filter is not valid JSON' });
      return z.NEVER;
    }
  });

const sortText = z
  .string()
  .max(300)
  .transform((s) =>
    s
      .split(',')
      .filter((part) => part.length > 0)
      .map((part) =>
        part.startsWith('-')
          ? { field: part.slice(1), dir: 'desc' as const }
          : { field: part, dir: 'asc' as const }
      )
  );

/** The query string of `GET /api/<entity>` (and summary, export), decoded and validated. */
export const listQuerySchema = (entity: ListEntity) =>
  z
    .object({
      q: searchSchema.optional(),
      filter: jsonText.pipe(filterSchema(entity)).optional(),
      sort: sortText.pipe(sortSchema(entity)).optional(),
      columns: csvList.pipe(columnsSchema(entity)).optional(),
      limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT),
      cursor: z.string().max(MAX_CURSOR_LENGTH).optional(),
      ids: csvList
        .pipe(
          z
            .array(
              z
                .string()
                .regex(/^\d{1,10}$/, 'expected an id')
                .transform(Number)
            )
            .min(1)
            .max(MAX_IDS)
        )
        .pipe(z.array(z.number().int().min(1).max(2147483647)))
        .optional()
    })
    .transform((raw): ListQuery => ({
      ...(raw.q ? { q: raw.q } : {}),
      ...(raw.filter ? { filter: raw.filter } : {}),
      sort: raw.sort ?? DEFAULT_SORT[entity],
      ...(raw.columns && raw.columns.length > 0 ? { columns: raw.columns } : {}),
      limit: raw.limit,
      ...(raw.cursor ? { cursor: raw.cursor } : {}),
      ...(raw.ids ? { ids: raw.ids } : {})
    }));

/** Query string parameters for a list state (and optionally a page request). Stable order. */
export function encodeListState(state: Partial<ListQuery>): URLSearchParams {
  const params = new URLSearchParams();
  if (state.q) params.set('q', state.q);
  if (state.filter && state.filter.rules.length > 0) params.set('filter', JSON.stringify(state.filter));
  if (state.sort && state.sort.length > 0)
    params.set('sort', state.sort.map((k) => (k.dir === 'desc' ? `-${k.field}` : k.field)).join(','));
  if (state.columns && state.columns.length > 0) params.set('columns', state.columns.join(','));
  if (state.limit !== undefined) params.set('limit', String(state.limit));
  if (state.cursor) params.set('cursor', state.cursor);
  if (state.ids && state.ids.length > 0) params.set('ids', state.ids.join(','));
  return params;
}

/** Decodes and validates a URL's list state for `entity` (the server uses the same schema). */
export function decodeListState(
  entity: ListEntity,
  params: URLSearchParams | Record<string, string>
): z.ZodSafeParseResult<ListQuery> {
  const record = params instanceof URLSearchParams ? Object.fromEntries(params) : params;
  return listQuerySchema(entity).safeParse(record);
}

/** The columns a state shows: its own, or the fields visible by default. */
export const visibleColumns = (entity: ListEntity, state: Pick<ListState, 'columns'>): string[] =>
  state.columns ?? LIST_FIELDS[entity].filter((f) => f.defaultVisible).map((f) => f.key);
