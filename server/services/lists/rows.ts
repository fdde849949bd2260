import { highlightRow } from '#shared/lists/highlight.js';
import {
  canViewList,
  DEFAULT_SORT,
  type ListEntity,
  type ListPage,
  type ListQuery,
  type ListRowOf,
  type ListSummary
} from '#shared/lists/query.js';
import type { Db } from '../../data/db.js';
import { AppError } from '../../errors.js';
import type { Actor } from '../../http/env.js';
import { Params, afterCursor, compileWhere, orderBy, sortColumns } from './compile.js';
import { decodeCursor, encodeCursor, sortSignature } from './cursor.js';
import { ENTITY_SQL } from './entities.js';
import { dailyOrderTotals, orderTotals } from './order-totals.js';

/**
 * Word similarity the search accepts (pg_trgm's default is 0.6): 0.4 lets one typo in a short
 * name through ('jonh' finds John: 2 of its 5 trigrams) while 'smith' still does not find 'smart'.
 */
export const SEARCH_WORD_SIMILARITY = 0.4;

export function assertCanList(actor: Actor, entity: ListEntity) {
  if (!canViewList(actor.user.role, entity))
    throw new AppError('forbidden', `Your role does not see the ${entity} list`);
}

/** Runs `work` with the search's settings when there is a search (they last one transaction). */
export function withSearch<T>(db: Db, q: string | undefined, work: (db: Db) => Promise<T>): Promise<T> {
  if (!q?.trim()) return work(db);
  return db.transaction(async (t) => {
    await t.query(`SELECT set_config('pg_trgm.word_similarity_threshold', $1, true)`, [
      String(SEARCH_WORD_SIMILARITY)
    ]);
    return work(t);
  });
}

const selectList = (entity: ListEntity) =>
  Object.entries(ENTITY_SQL[entity].fields)
    .filter(([, f]) => !f.compile)
    .map(([key, f]) => `${f.select} AS "${key}"`)
    .join(', ');

const NUMBER_KEYS = new Set(['ratingAvg']);

/** A database row in the contract's shape: dates as ISO strings, money as exact decimal strings. */
function present(entity: ListEntity, raw: Record<string, unknown>): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const [key, sql] of Object.entries(ENTITY_SQL[entity].fields)) {
    if (sql.compile) continue; // a filter, not a column
    const v = raw[key];
    if (v instanceof Date) row[key] = v.toISOString();
    else if (NUMBER_KEYS.has(key) && v !== null && v !== undefined) row[key] = Number(v);
    else row[key] = v ?? null;
  }
  return row;
}

/** Reads one page (rows in the contract's shape, plus the raw sort keys of the last row). */
async function readPage(db: Db, entity: ListEntity, query: ListQuery) {
  const columns = sortColumns(entity, query.sort);
  const after = query.cursor ? decodeCursor(query.cursor, query.sort, columns) : null;
  // In the default order with nothing but a search, the search may choose the page itself.
  const searchPicksPage =
    !query.filter?.rules.length &&
    !query.ids &&
    sortSignature(query.sort) === sortSignature(DEFAULT_SORT[entity]);
  const where = compileWhere(entity, {
    ...query,
    page: searchPicksPage ? { limit: query.limit + 1, after, columns } : undefined
  });
  const p = new Params(where.params.length + 1);
  let condition = where.sql;
  if (after) condition = `(${condition}) AND ${afterCursor(columns, after, p)}`;
  const keys = columns.map((c, i) => `(${c.expr})::text AS "_k${i}"`).join(', ');
  const limit = p.add(query.limit + 1, 'integer');
  const { from, id, pageIds, fields } = ENTITY_SQL[entity];
  // Sorted by the base table's own columns, the page's ids are chosen from the base table alone
  // (the summary joined only if the filter uses it) and only those rows are joined and shown:
  // a filter the sort index cannot bound is then tested on index entries, not on every row's
  // summary (docs/performance.md, "Consent and tag", "Phone search").
  if (pageIds && !fields[query.sort[0]?.field]?.sortId)
    condition = `${id} IN (SELECT ${id} FROM ${pageIds.from} WHERE ${pageIds.where} AND (${condition})
      ORDER BY ${orderBy(columns)} LIMIT ${limit})`;
  const sql = `SELECT ${selectList(entity)}, ${keys} FROM ${from}
    WHERE ${condition} ORDER BY ${orderBy(columns)} LIMIT ${limit}`;
  const raw = await db.query<Record<string, unknown>>(sql, [...where.params, ...p.values]);
  const more = raw.length > query.limit;
  const page = more ? raw.slice(0, query.limit) : raw;
  const last = page[page.length - 1];
  const nextCursor =
    more && last
      ? encodeCursor(
          query.sort,
          columns.map((_, i) => String(last[`_k${i}`]))
        )
      : null;
  return { rows: page.map((r) => present(entity, r)), nextCursor };
}

/**
 * Runs a page read without parallel workers (with the search's settings when searching), in one
 * transaction. A page is at most a few hundred rows, and starting workers cost more than they
 * saved: at 1M customers, "10+ orders by count" took 45-50 ms with two workers (most of it
 * waiting for them to start) and 4-10 ms without (docs/performance.md, "The CRM, session 11").
 */
function withPageSettings<T>(db: Db, q: string | undefined, work: (db: Db) => Promise<T>): Promise<T> {
  return db.transaction(async (t) => {
    await t.query(`SELECT set_config('max_parallel_workers_per_gather', '0', true)`);
    return withSearch(t, q, work);
  });
}

/** One page of a list, in the order asked, after the cursor; with highlights when searching. */
export async function listRows<E extends ListEntity>(
  db: Db,
  actor: Actor,
  entity: E,
  query: ListQuery
): Promise<ListPage<ListRowOf[E]>> {
  assertCanList(actor, entity);
  const page = await withPageSettings(db, query.q, (t) => readPage(t, entity, query));
  if (query.q) {
    for (const row of page.rows) {
      const highlights = highlightRow(row, ENTITY_SQL[entity].highlight, query.q);
      if (Object.keys(highlights).length > 0) row.highlights = highlights;
    }
  }
  return page as unknown as ListPage<ListRowOf[E]>;
}

/** SQLSTATE of a statement cancelled by statement_timeout. */
const QUERY_CANCELED = '57014';

function isCancelled(err: unknown): boolean {
  const e = err as { code?: string; original?: { code?: string }; parent?: { code?: string } };
  return (e?.original?.code ?? e?.parent?.code ?? e?.code) === QUERY_CANCELED;
}

/**
 * Count, sums and averages of the money columns over the whole filtered set (not a page). The
 * precomputed totals answer the orders' common filters at once; anything else is counted within
 * `timeoutMs`, and past it the answer is the planner's estimate of the count, marked `estimated`
 * (no sums): a footer never holds a connection for seconds.
 */
export async function summarize(
  db: Db,
  actor: Actor,
  entity: ListEntity,
  query: Pick<ListQuery, 'q' | 'filter' | 'ids'>,
  timeoutMs = 250
): Promise<ListSummary> {
  assertCanList(actor, entity);
  const where = compileWhere(entity, query);
  if (entity === 'orders' && where.sql === 'TRUE') return orderTotals(db);
  if (entity === 'orders' && !query.q?.trim() && !query.ids && query.filter) {
    const fromTotals = await dailyOrderTotals(db, query.filter);
    if (fromTotals) return fromTotals;
  }
  const money = ENTITY_SQL[entity].money;
  const aggregates = money
    .map((key, i) => {
      const x = ENTITY_SQL[entity].fields[key].select;
      return `coalesce(sum(${x}), 0)::numeric(20, 2)::text AS "s${i}", round(avg(${x}), 2)::numeric(20, 2)::text AS "a${i}"`;
    })
    .join(', ');
  const from = `FROM ${ENTITY_SQL[entity].aggregateFrom} WHERE ${where.sql}`;
  let row: Record<string, string | number | null>;
  try {
    [row] = await db.transaction(async (t) => {
      await t.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
      return withSearch(t, query.q, (s) =>
        s.query<Record<string, string | number | null>>(
          `SELECT count(*)::integer AS count${aggregates ? `, ${aggregates}` : ''} ${from}`,
          where.params
        )
      );
    });
  } catch (err) {
    if (!isCancelled(err)) throw err;
    return {
      count: await estimateCount(db, query.q, `SELECT 1 ${from}`, where.params),
      sums: {},
      averages: {},
      estimated: true
    };
  }
  const sums: Record<string, string> = {};
  const averages: Record<string, string> = {};
  money.forEach((key, i) => {
    sums[key] = String(row[`s${i}`]);
    if (row[`a${i}`] !== null) averages[key] = String(row[`a${i}`]);
  });
  return { count: Number(row.count), sums, averages };
}

/** The planner's estimate of the rows `select` returns: planning only, nothing is read. */
async function estimateCount(db: Db, q: string | undefined, select: string, params: unknown[]) {
  const [plan] = await withSearch(db, q, (t) =>
    t.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(`EXPLAIN (FORMAT JSON) ${select}`, params)
  );
  return Math.max(0, Math.round(plan['QUERY PLAN'][0].Plan['Plan Rows']));
}
