import { fieldByKey, type FieldDef } from '#shared/lists/fields.js';
import { LIST_FIELDS, visibleColumns, type ListEntity, type ListQuery } from '#shared/lists/query.js';
import type { Db } from '../../data/db.js';
import type { Actor } from '../../http/env.js';
import { Params, afterCursor, compileWhere, orderBy, sortColumns } from './compile.js';
import { ENTITY_SQL } from './entities.js';
import { assertCanList, withSearch } from './rows.js';

// CSV of a whole filtered set for spreadsheets: UTF-8 with a BOM (Excel then reads it as UTF-8),
// RFC 4180 quoting and CRLF line ends, and no text cell a spreadsheet would run as a formula.
//
// The database writes each line (one text column a row) and Node only appends the lines: an
// export runs at about the speed Postgres reads the rows, where parsing every cell into a JS value
// and printing it again cost as much again (docs/performance.md, "Export"). The cells are what
// the list's JSON shows: dates as ISO 8601 in UTC with milliseconds, money as exact decimals,
// tags joined by ", ", empty for NULL.

export const BOM = '\uFEFF';

/**
 * Rows a query reads: big enough that planning and a round trip are small beside the rows it
 * brings (about 1 MiB of CSV), small enough that the two batches in flight keep memory flat.
 */
export const EXPORT_BATCH = 10_000;

/**
 * Lines a chunk of a batch holds (about 9 KB). Not the whole batch in one string: V8 puts a string
 * over 128 KB in its large-object space, freed only by a full collection, and an export of a
 * million rows then left tens of MiB of dead 1 MB strings in the server between collections.
 */
const CHUNK_LINES = 100;

/** Code points that make a spreadsheet read a cell as a formula when first: = + - @ tab CR. */
const FORMULA_FIRST = [61, 43, 45, 64, 9, 13].join(', ');

/**
 * SQL of a text cell from the column `x`: a leading `'` on the cell, and on each `;`-separated
 * part of it, that a spreadsheet would read as a formula; then quoted (quotes doubled) when it
 * holds a quote, a comma or a line break. Most cells hold neither a separator nor a formula
 * character: they are told by `strpos` and `ascii`, far cheaper than a regular expression.
 */
function textCell(x: string): string {
  const safe =
    `CASE WHEN strpos(${x}, ';') = 0 AND ascii(${x}) NOT IN (${FORMULA_FIRST}) THEN ${x}` +
    ` ELSE regexp_replace(${x}, '(^|;)([-=+@\\t\\r])', '\\1''\\2', 'g') END`;
  // Neutralising adds only `'`, so the cell needs quotes exactly when its text did.
  const plain = `strpos(${x}, '"') + strpos(${x}, ',') + strpos(${x}, chr(10)) + strpos(${x}, chr(13)) = 0`;
  return `CASE WHEN ${plain} THEN ${safe} ELSE '"' || replace(${safe}, '"', '""') || '"' END`;
}

/** SQL printing the value `x` of a field as text (NULL stays NULL). */
function valueText(def: FieldDef, x: string): string {
  switch (def.type) {
    case 'date':
      // As JSON shows it (Date#toISOString): UTC, milliseconds, truncated as node-postgres does.
      return `to_char(${x} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
    case 'number':
      // float8 prints the shortest exact form, as a JavaScript number does (a rating 4.50 is 4.5).
      return `(${x})::float8::text`;
    case 'tags':
      // Joined as the table shows the array (", "), a NULL element empty.
      return `array_to_string(${x}, ', ', '')`;
    default:
      // Text and enums as they are, money as its exact decimal, booleans true/false.
      return `(${x})::text`;
  }
}

/** Whether a field's cells are text a spreadsheet could read as a formula. */
const isText = (def: FieldDef) => def.type === 'text' || def.type === 'enum' || def.type === 'tags';

/**
 * `SELECT <line> FROM (<inner>) r`, where `inner` selects each field's text as "c0", "c1"...:
 * each value is computed once (the sorted subquery is not flattened) however often its cell
 * refers to it. `also` names more columns of `inner` to pass through.
 */
function linesOf(defs: FieldDef[], inner: string, also: string[] = []): string {
  const cells = defs.map((def, i) => {
    const x = `r."c${i}"`;
    return `coalesce(${isText(def) ? textCell(x) : x}, '')`;
  });
  const line = cells.join(` || ',' || `) || `''`;
  return `SELECT ${[`${line} AS line`, ...also.map((a) => `r."${a}"`)].join(', ')} FROM (${inner}) r`;
}

/** The fields of the export's columns (unknown keys are left out: the contract checked them). */
function exportFields(entity: ListEntity, columns: string[]): FieldDef[] {
  return columns.map((key) => fieldByKey(LIST_FIELDS[entity], key)).filter((f): f is FieldDef => !!f);
}

/** The header line: the columns' labels, as text cells. */
async function headerLine(db: Db, defs: FieldDef[]): Promise<string> {
  const p = new Params();
  const labels = defs.map((def, i) => `${p.add(def.label, 'text')} AS "c${i}"`).join(', ');
  const asText = defs.map((def) => ({ ...def, type: 'text' as const }));
  const [row] = await db.query<{ line: string }>(linesOf(asText, `SELECT ${labels || '1'}`), p.values);
  return row.line;
}

/**
 * The filtered set as CSV text chunks: the BOM and the header, then one chunk per batch of rows,
 * read by keyset (each batch a short query of its own, so no connection or snapshot is held
 * between batches however slowly the file is downloaded). The next batch is read while the
 * caller writes this one; memory holds at most two batches.
 *
 * A batch comes back as chunks of CHUNK_LINES lines joined by the database (`string_agg`, in the
 * batch's order), each with the sort keys of its last line for the next batch's cursor. Node then
 * handles 100 strings a batch instead of 10,000 rows of three strings, whose parsing and objects
 * were most of the server's CPU during an export (docs/performance.md).
 */
export async function* exportCsv(
  db: Db,
  actor: Actor,
  entity: ListEntity,
  query: ListQuery,
  columns: string[] = visibleColumns(entity, query)
): AsyncGenerator<string> {
  assertCanList(actor, entity);
  const defs = exportFields(entity, columns);
  const sql = ENTITY_SQL[entity];
  const sort = sortColumns(entity, query.sort);
  const where = compileWhere(entity, query);
  const values = defs.map((def, i) => `${valueText(def, sql.fields[def.key].select)} AS "c${i}"`);
  // The keys as the sort compares them; only the last line of a chunk has its keys printed (as text).
  const keys = sort.map((c, i) => `${c.expr} AS "k${i}"`);
  const order = sort.map((c, i) => `b."k${i}" ${c.dir === 'desc' ? 'DESC' : 'ASC'}`).join(', ');
  // Each chunk's last keys; the input is sorted by chunk and line, so no aggregate sorts again.
  const lastKeys = sort.map((_, i) => `((array_agg(g."k${i}" ORDER BY g.i))[count(*)])::text AS "k${i}"`);

  const read = (after: string[] | null) => {
    const p = new Params(where.params.length + 1);
    const condition = after ? `(${where.sql}) AND ${afterCursor(sort, after, p)}` : where.sql;
    const lines = linesOf(
      defs,
      `SELECT ${[...values, ...keys].join(', ')} FROM ${sql.from}
        WHERE ${condition} ORDER BY ${orderBy(sort)} LIMIT ${p.add(EXPORT_BATCH, 'integer')}`,
      sort.map((_, i) => `k${i}`)
    );
    // The lines are numbered in the batch's order (the input is already sorted: no sort) and cut
    // into chunks of CHUNK_LINES, returned in order.
    const statement = `SELECT count(*)::integer AS n, string_agg(g.line, chr(13) || chr(10) ORDER BY g.i) AS lines,
      ${lastKeys.join(', ')}
      FROM (SELECT b.*, row_number() OVER (ORDER BY ${order}) AS i FROM (${lines}) b) g
      GROUP BY (g.i - 1) / ${CHUNK_LINES} ORDER BY min(g.i)`;
    return db.transaction(async (t) => {
      // One process reads a batch: parallel workers tripled the CPU a batch of 10,000 rows cost
      // (measured, docs/performance.md), and an export runs beside the requests. No JIT either:
      // compiling costs more than it saves on a batch.
      await t.query(`SET LOCAL max_parallel_workers_per_gather = 0`);
      await t.query(`SET LOCAL jit = off`);
      return withSearch(t, query.q, (s) =>
        s.query<{ n: number; lines: string; [key: `k${number}`]: string }>(statement, [
          ...where.params,
          ...p.values
        ])
      );
    });
  };

  yield BOM + (await headerLine(db, defs)) + '\r\n';
  let next: ReturnType<typeof read> | null = read(null);
  while (next) {
    const chunks: Awaited<ReturnType<typeof read>> = await next;
    const last = chunks[chunks.length - 1];
    const rows = chunks.reduce((n, chunk) => n + chunk.n, 0);
    next = rows === EXPORT_BATCH ? read(sort.map((_, i) => last[`k${i}`])) : null;
    // A consumer that stops early leaves the read ahead to finish on its own: do not leave it unhandled.
    next?.catch(() => undefined);
    for (const chunk of chunks) yield chunk.lines + '\r\n';
  }
}
