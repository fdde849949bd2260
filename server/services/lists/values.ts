import { LIST_FIELDS, type ListEntity } from '#shared/lists/query.js';
import type { FieldValues } from '#shared/lists/values.js';
import type { Db } from '../../data/db.js';
import { AppError } from '../../errors.js';
import { ENTITY_SQL } from './entities.js';

// Distinct values of a data-driven enum field, most used first. A small table is counted
// exactly; past BIG_TABLE rows a GROUP BY over every row would take seconds (1M customers, 5M
// orders), so the counts come from the planner's statistics of the column (or of the expression
// index that sorts it): the most common values and their frequencies, kept fresh by autovacuum.

const BIG_TABLE = 200_000;

interface StatsSource {
  /** The table whose row count scales the frequencies. */
  table: string;
  /** pg_stats' relation: the table itself, or an expression index over the field. */
  relation: string;
  /** The column (null: the index's only expression). */
  column: string | null;
}

const STATS: Partial<Record<ListEntity, Record<string, StatsSource>>> = {
  // customers_list_country_idx: (coalesce(customer_country(addresses), ''), id), migration 0014.
  customers: { country: { table: 'customers', relation: 'customers_list_country_idx', column: null } },
  orders: { currency: { table: 'orders', relation: 'orders', column: 'currency' } }
};

const BASE_TABLE: Record<ListEntity, string> = {
  customers: 'customers',
  orders: 'orders',
  products: 'products'
};

const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;

export async function fieldValues(
  db: Db,
  entity: ListEntity,
  input: { field: string; q?: string; limit: number }
): Promise<FieldValues> {
  const sql = ENTITY_SQL[entity];
  const field = sql.fields[input.field];
  if (!field) throw new AppError('validation_failed', `No field ${input.field} on ${entity}`);
  const q = input.q ?? '';
  const [size] = await db.query<{ rows: number }>(
    `SELECT greatest(reltuples, 0)::float8 AS rows FROM pg_class WHERE oid = to_regclass($1)`,
    [`public.${BASE_TABLE[entity]}`]
  );
  if (LIST_FIELDS[entity].some((f) => f.key === input.field && f.type === 'tags'))
    return tagValues(db, entity, field.select, input, Number(size?.rows ?? 0) > BIG_TABLE);
  const stats = STATS[entity]?.[input.field];
  if (stats && Number(size?.rows ?? 0) > BIG_TABLE) {
    const rows = await db.query<{ value: string; count: string }>(
      `SELECT v.value, round(v.freq * c.reltuples)::bigint AS count
         FROM pg_stats s
         JOIN pg_class c ON c.oid = to_regclass('public.' || $2)
        CROSS JOIN LATERAL unnest(s.most_common_vals::text::text[], s.most_common_freqs) AS v (value, freq)
        WHERE s.schemaname = 'public' AND s.tablename = $1 AND ($3::text IS NULL OR s.attname = $3)
          AND v.value <> '' AND ($4 = '' OR v.value ILIKE $5)
        ORDER BY v.freq DESC, v.value
        LIMIT $6`,
      [stats.relation, stats.table, stats.column, q, likePattern(q), input.limit + 1]
    );
    if (rows.length > 0) return shape(input, rows, true);
    // Never analysed: count, as for a small table.
  }
  const expr = field.filter ?? field.select;
  const rows = await db.query<{ value: string; count: string }>(
    `SELECT ${expr} AS value, count(*) AS count
       FROM ${sql.aggregateFrom}
      WHERE ${expr} IS NOT NULL AND ${expr} <> '' AND ($1 = '' OR ${expr} ILIKE $2)
      GROUP BY 1 ORDER BY 2 DESC, 1
      LIMIT $3`,
    [q, likePattern(q), input.limit + 1]
  );
  return shape(input, rows, false);
}

/**
 * Each tag of an array column with the rows carrying it. A big table reads the planner's most
 * common elements of the column (their frequencies are per row, as the count is); a small one,
 * or one never analysed, counts.
 */
async function tagValues(
  db: Db,
  entity: ListEntity,
  column: string,
  input: { field: string; q?: string; limit: number },
  big: boolean
): Promise<FieldValues> {
  const q = input.q ?? '';
  if (big) {
    const [table, name] = [BASE_TABLE[entity], column.replace(/^\w+\./, '')];
    const rows = await db.query<{ value: string; count: string }>(
      `SELECT v.value, round(v.freq * c.reltuples)::bigint AS count
         FROM pg_stats s
         JOIN pg_class c ON c.oid = to_regclass('public.' || $1)
        CROSS JOIN LATERAL unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS v (value, freq)
        WHERE s.schemaname = 'public' AND s.tablename = $1 AND s.attname = $2
          AND v.value IS NOT NULL AND v.value <> '' AND ($3 = '' OR v.value ILIKE $4)
        ORDER BY v.freq DESC, v.value
        LIMIT $5`,
      [table, name, q, likePattern(q), input.limit + 1]
    );
    if (rows.length > 0) return shape(input, rows, true);
  }
  const rows = await db.query<{ value: string; count: string }>(
    `SELECT t.value, count(*) AS count
       FROM ${ENTITY_SQL[entity].aggregateFrom} CROSS JOIN LATERAL unnest(${column}) AS t (value)
      WHERE t.value <> '' AND ($1 = '' OR t.value ILIKE $2)
      GROUP BY 1 ORDER BY 2 DESC, 1
      LIMIT $3`,
    [q, likePattern(q), input.limit + 1]
  );
  return shape(input, rows, false);
}

function shape(
  input: { field: string; limit: number },
  rows: { value: string; count: string }[],
  approximate: boolean
): FieldValues {
  return {
    field: input.field,
    values: rows.slice(0, input.limit).map((r) => ({ value: String(r.value), count: Number(r.count) })),
    approximate,
    truncated: rows.length > input.limit
  };
}
