import { fieldByKey, type FieldDef } from '#shared/lists/fields.js';
import { searchTerms } from '#shared/lists/highlight.js';
import {
  LIST_FIELDS,
  isFilterGroup,
  type FilterGroup,
  type FilterRule,
  type ListEntity,
  type SortKey
} from '#shared/lists/query.js';
import { AppError } from '../../errors.js';
import { ENTITY_SQL, type FieldSql, type SearchParams, type SqlType } from './entities.js';

// A list query as SQL: every value is a bound parameter; the only text spliced in comes from
// ENTITY_SQL (field expressions) and the operators' fixed templates, chosen by keys the contract
// validated. Unknown keys are refused here too (a caller that skipped validation gets a 400).

/** Collects bound parameters and hands out their placeholders. */
export class Params {
  readonly values: unknown[] = [];
  constructor(private readonly first = 1) {}
  add(value: unknown, cast?: string): string {
    this.values.push(value);
    const placeholder = `$${this.first + this.values.length - 1}`;
    return cast ? `${placeholder}::${cast}` : placeholder;
  }
}

export interface WhereInput {
  q?: string;
  filter?: FilterGroup;
  ids?: number[];
  /** The page a list reads in its default order (see SearchParams.page); values cast by `columns`. */
  page?: { limit: number; after: string[] | null; columns: SortColumn[] };
}

const badFilter = (message: string) => new AppError('validation_failed', message);

/** `%`, `_` and `\` taken literally by LIKE / ILIKE (backslash is their default escape). */
export const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

function fieldSql(entity: ListEntity, key: string): { def: FieldDef; sql: FieldSql } {
  const def = fieldByKey(LIST_FIELDS[entity], key);
  const sql = ENTITY_SQL[entity].fields[key];
  if (!def || !sql) throw badFilter(`unknown field "${key}"`);
  return { def, sql };
}

/** A calendar date's first instant (UTC) or the instant a timestamp names. */
const instant = (value: string) => (value.length === 10 ? `${value}T00:00:00Z` : value);
/** The first instant after a date (UTC), or the instant itself for a timestamp. */
const endOf = (value: string) =>
  value.length === 10 ? new Date(Date.parse(instant(value)) + 86_400_000).toISOString() : value;

/**
 * One filter rule as SQL over the entity's base relation, its values bound through `p`
 * (segments compile the conditions they share with the customers table through this).
 */
export function compileRule(entity: ListEntity, rule: FilterRule, p: Params): string {
  const { def, sql } = fieldSql(entity, rule.field);
  if (!def.filterable) throw badFilter(`cannot filter on "${rule.field}"`);
  const x = sql.filter ?? sql.select;
  const v = rule.value;
  if (sql.compile) return sql.compile(rule.operator, v, (value, cast) => p.add(value, cast));
  const op = `${def.type}:${rule.operator}`;
  switch (op) {
    case 'text:contains':
      return `${x} ILIKE ${p.add(`%${escapeLike(String(v))}%`)}`;
    case 'text:starts_with':
      return `${x} ILIKE ${p.add(`${escapeLike(String(v))}%`)}`;
    case 'text:is':
      return `lower(${x}) = lower(${p.add(String(v))})`;
    case 'text:is_not':
      return `(${x} IS NULL OR lower(${x}) <> lower(${p.add(String(v))}))`;
    case 'text:is_empty':
      return `coalesce(${x}, '') = ''`;
    case 'text:is_not_empty':
      return `coalesce(${x}, '') <> ''`;
    case 'number:eq':
    case 'money:eq':
      return `${x} = ${p.add(v, 'numeric')}`;
    case 'number:gt':
    case 'money:gt':
      return `${x} > ${p.add(v, 'numeric')}`;
    case 'number:gte':
    case 'money:gte':
      return `${x} >= ${p.add(v, 'numeric')}`;
    case 'number:lt':
    case 'money:lt':
      return `${x} < ${p.add(v, 'numeric')}`;
    case 'number:lte':
    case 'money:lte':
      return `${x} <= ${p.add(v, 'numeric')}`;
    case 'number:between':
    case 'money:between': {
      const [a, b] = v as [unknown, unknown];
      return `${x} BETWEEN SYMMETRIC ${p.add(a, 'numeric')} AND ${p.add(b, 'numeric')}`;
    }
    case 'number:is_empty':
    case 'money:is_empty':
      return `${x} IS NULL`;
    case 'date:before':
      return `${x} < ${p.add(instant(String(v)), 'timestamptz')}`;
    case 'date:after':
      return `${x} >= ${p.add(endOf(String(v)), 'timestamptz')}`;
    case 'date:on':
      return `(${x} >= ${p.add(instant(String(v).slice(0, 10)), 'timestamptz')} AND ${x} < ${p.add(endOf(String(v).slice(0, 10)), 'timestamptz')})`;
    case 'date:between': {
      const [from, to] = (v as [string, string]).slice().sort();
      return `(${x} >= ${p.add(instant(from), 'timestamptz')} AND ${x} < ${p.add(endOf(to), 'timestamptz')})`;
    }
    case 'date:in_last':
      return `${x} >= now() - make_interval(days => ${p.add(v, 'integer')})`;
    case 'date:not_in_last':
      return `(${x} IS NULL OR ${x} < now() - make_interval(days => ${p.add(v, 'integer')}))`;
    case 'date:before_days_ago':
      return `${x} < now() - make_interval(days => ${p.add(v, 'integer')})`;
    case 'enum:is_any_of':
      return sql.enumArray
        ? `${x} = ANY (${p.add(v, sql.enumArray)})`
        : `${x}::text = ANY (${p.add(v, 'text[]')})`;
    case 'enum:is_none_of':
      return `coalesce(${x}::text, '') <> ALL (${p.add(v, 'text[]')})`;
    case 'tags:any':
      return `${x} && ${p.add(v, 'text[]')}`;
    case 'tags:all':
      return `${x} @> ${p.add(v, 'text[]')}`;
    case 'tags:none':
      return `NOT (${x} && ${p.add(v, 'text[]')})`;
    case 'boolean:is':
      return `${x} = ${p.add(v === true, 'boolean')}`;
    default:
      throw badFilter(`operator "${rule.operator}" does not apply to ${def.type} field "${def.key}"`);
  }
}

function compileGroup(entity: ListEntity, group: FilterGroup, p: Params): string {
  if (group.rules.length === 0) return 'TRUE';
  const parts = group.rules.map((node) =>
    isFilterGroup(node) ? compileGroup(entity, node, p) : compileRule(entity, node, p)
  );
  return `(${parts.join(group.op === 'or' ? ' OR ' : ' AND ')})`;
}

/** The search as the entity's SQL condition, or null for a search with nothing to look for. */
function compileSearch(
  entity: ListEntity,
  q: string,
  p: Params,
  page: WhereInput['page'] | undefined
): string | null {
  const text = q.trim();
  if (text.length === 0) return null;
  const terms = searchTerms(text);
  const digits = text.replace(/\D/g, '');
  const id = /^#?\d{1,9}$/.test(text) ? Number(text.replace('#', '')) : null;
  // Each part is bound only if the entity's search uses it (an unused parameter has no type).
  const once = (value: unknown, cast?: string) => {
    let placeholder: string | undefined;
    return () => (placeholder ??= p.add(value, cast));
  };
  const qParam = once(text);
  const likeParam = once(`%${escapeLike(text)}%`);
  const tsParam = once(terms.map((t) => `${t}:*`).join(' & '));
  const digitsParam = once(`%${digits}%`);
  const idParam = once(id, 'integer');
  let pageBound: SearchParams['page'] | undefined;
  const pageParams = () =>
    (pageBound ??= page
      ? {
          limit: p.add(page.limit, 'integer'),
          after: page.after && page.after.map((v, i) => p.add(v, page.columns[i].type))
        }
      : null);
  const params: SearchParams = {
    get q() {
      return qParam();
    },
    get like() {
      return likeParam();
    },
    get tsquery() {
      return terms.length > 0 ? tsParam() : null;
    },
    get digits() {
      return digits.length >= 3 ? digitsParam() : null;
    },
    get id() {
      return id !== null && id <= 2147483647 ? idParam() : null;
    },
    get page() {
      return pageParams();
    },
    letters: /\p{L}/u.test(text)
  };
  return `(${ENTITY_SQL[entity].search(params)})`;
}

/**
 * The WHERE fragment (without the keyword) selecting what `q`, `filter` and `ids` select over
 * the entity's base relation, with its parameters numbered from `firstParam`.
 */
export function compileWhere(
  entity: ListEntity,
  input: WhereInput,
  firstParam = 1
): { sql: string; params: unknown[] } {
  const p = new Params(firstParam);
  const parts: string[] = [];
  if (input.q) {
    const search = compileSearch(entity, input.q, p, input.page);
    if (search) parts.push(search);
  }
  if (input.filter) parts.push(compileGroup(entity, input.filter, p));
  if (input.ids) parts.push(`${ENTITY_SQL[entity].id} = ANY (${p.add(input.ids, 'integer[]')})`);
  return { sql: parts.length > 0 ? parts.join(' AND ') : 'TRUE', params: p.values };
}

// Sorting and keyset ----------------------------------------------------------------------------

export interface SortColumn {
  expr: string;
  type: SqlType;
  dir: 'asc' | 'desc';
}

/** The sort keys as SQL, ending with the id (in the last key's direction) so the order is total. */
export function sortColumns(entity: ListEntity, sort: SortKey[]): SortColumn[] {
  let tieId = ENTITY_SQL[entity].id;
  const columns = sort.map((key, i) => {
    const { def, sql } = fieldSql(entity, key.field);
    if (!def.sortable || !sql.sort || !sql.sortType) throw badFilter(`cannot sort by "${key.field}"`);
    if (i === 0 && sql.sortId) tieId = sql.sortId;
    return { expr: sql.sort, type: sql.sortType, dir: key.dir };
  });
  const last = columns[columns.length - 1]?.dir ?? 'asc';
  if (!sort.some((k) => k.field === 'id')) columns.push({ expr: tieId, type: 'integer', dir: last });
  return columns;
}

export const orderBy = (columns: SortColumn[]) =>
  columns.map((c) => `${c.expr} ${c.dir === 'desc' ? 'DESC' : 'ASC'}`).join(', ');

/**
 * Rows strictly after `values` in the order of `columns`. When every key runs the same way this is
 * one row comparison (an index range); otherwise the lexicographic expansion, with the first key's
 * bound repeated on its own so the index still starts at the cursor.
 */
export function afterCursor(columns: SortColumn[], values: string[], p: Params): string {
  const bound = values.map((v, i) => p.add(v, columns[i].type));
  const sameWay = columns.every((c) => c.dir === columns[0].dir);
  if (sameWay) {
    const cmp = columns[0].dir === 'asc' ? '>' : '<';
    return `(${columns.map((c) => c.expr).join(', ')}) ${cmp} (${bound.join(', ')})`;
  }
  const branches: string[] = [];
  for (let i = 0; i < columns.length; i++) {
    const equal = columns.slice(0, i).map((c, j) => `${c.expr} = ${bound[j]}`);
    const cmp = columns[i].dir === 'asc' ? '>' : '<';
    branches.push([...equal, `${columns[i].expr} ${cmp} ${bound[i]}`].join(' AND '));
  }
  const lead = `${columns[0].expr} ${columns[0].dir === 'asc' ? '>=' : '<='} ${bound[0]}`;
  return `(${lead} AND ((${branches.join(') OR (')})))`;
}
