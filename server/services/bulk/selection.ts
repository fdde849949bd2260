import type { FilterGroup, FilterRule } from '#shared/lists/query.js';
import { isFilterGroup } from '#shared/lists/query.js';
import type { BulkEntity, BulkSelection } from '#shared/schemas/bulk.js';
import { AppError } from '../../errors.js';

// TEMPORARY until the lists service's compileWhere lands: a small compiler for the selection,
// over the entity's base table aliased `r`. Handles ids, a search over a few text columns and
// rules on base columns (text, tags, numbers, booleans).

const SEARCH: Record<BulkEntity, string> = {
  customers: `(r.first_name || ' ' || r.last_name || ' ' || r.email)`,
  orders: `(r.id::text || ' ' || coalesce(r.external_id, ''))`,
  products: `(r.sku || ' ' || r.name)`
};

const COLUMNS: Record<BulkEntity, Record<string, string>> = {
  customers: {
    id: 'r.id',
    email: 'r.email',
    name: `(r.first_name || ' ' || r.last_name)`,
    phone: 'r.phone',
    tags: 'r.tags',
    marketingConsent: 'r.marketing_consent',
    createdAt: 'r.created_at'
  },
  orders: { id: 'r.id', status: 'r.status::text', channel: 'r.channel::text', total: 'r.total' },
  products: { id: 'r.id', sku: 'r.sku', name: 'r.name', price: 'r.price', stock: 'r.stock' }
};

export interface Compiled {
  sql: string;
  params: unknown[];
}

export function selectionWhere(entity: BulkEntity, selection: BulkSelection, firstParam = 1): Compiled {
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${firstParam + params.length - 1}`;
  };
  const parts: string[] = [];
  if (selection.ids) parts.push(`r.id = ANY (${p(selection.ids)}::int[])`);
  if (selection.q) parts.push(`${SEARCH[entity]} ILIKE ${p(`%${selection.q}%`)}`);
  if (selection.filter) parts.push(group(selection.filter as FilterGroup));
  return { sql: parts.length ? parts.join(' AND ') : 'true', params };

  function group(g: FilterGroup): string {
    if (g.rules.length === 0) return 'true';
    return `(${g.rules.map((r) => (isFilterGroup(r) ? group(r) : rule(r))).join(g.op === 'or' ? ' OR ' : ' AND ')})`;
  }
  function rule(r: FilterRule): string {
    const col = COLUMNS[entity][r.field];
    if (!col) throw new AppError('validation_failed', `Cannot filter ${entity} by ${r.field} here yet`);
    const v = r.value;
    switch (r.operator) {
      case 'contains':
        return `${col} ILIKE ${p(`%${String(v)}%`)}`;
      case 'is':
        return `${col} = ${p(v)}`;
      case 'starts_with':
        return `${col} ILIKE ${p(`${String(v)}%`)}`;
      case 'any':
        return `${col} && ${p(v)}::text[]`;
      case 'all':
        return `${col} @> ${p(v)}::text[]`;
      case 'none':
        return `NOT (${col} && ${p(v)}::text[])`;
      case 'eq':
        return `${col} = ${p(v)}`;
      case 'gte':
        return `${col} >= ${p(v)}`;
      case 'lte':
        return `${col} <= ${p(v)}`;
      case 'is_any_of':
        return `${col} = ANY (${p(v)}::text[])`;
      default:
        throw new AppError('validation_failed', `Cannot filter by ${r.operator} here yet`);
    }
  }
}

/** Compiles the selection once to refuse, with a 400, what cannot be run. */
export function checkSelection(entity: BulkEntity, selection: BulkSelection): void {
  selectionWhere(entity, selection);
}
