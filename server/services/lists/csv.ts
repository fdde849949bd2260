import { LIST_FIELDS, visibleColumns, type ListEntity, type ListQuery } from '#shared/lists/query.js';
import type { Db } from '../../data/db.js';
import type { Actor } from '../../http/env.js';
import { allRows } from './rows.js';

// CSV of a whole filtered set for spreadsheets: UTF-8 with a BOM (Excel then reads it as UTF-8),
// RFC 4180 quoting and CRLF line ends, and no text cell a spreadsheet would run as a formula.

export const BOM = '\uFEFF';
/** What makes a spreadsheet read a cell (or a `;`-separated part of one) as a formula. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** A text cell that cannot start a formula: a leading `'` wherever one could start. */
export function neutralise(text: string): string {
  // Most cells: no separator, nothing to neutralise, no new string.
  if (!text.includes(';')) return FORMULA_START.test(text) ? `'${text}` : text;
  return text
    .split(';')
    .map((part) => (FORMULA_START.test(part) ? `'${part}` : part))
    .join(';');
}

/** RFC 4180: quoted when it holds a quote, a comma or a line break; quotes doubled. */
export const quote = (cell: string) => (/[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell);

export function csvCell(value: unknown, isText: boolean): string {
  if (value === null || value === undefined) return '';
  const text = Array.isArray(value) ? value.join(', ') : String(value);
  return quote(isText ? neutralise(text) : text);
}

export const csvLine = (cells: string[]) => `${cells.join(',')}\r\n`;

/**
 * The filtered set as CSV text chunks: the header (labels), then one chunk per batch of rows,
 * read by keyset so memory stays flat however many rows there are.
 */
export async function* exportCsv(
  db: Db,
  actor: Actor,
  entity: ListEntity,
  query: ListQuery,
  columns: string[] = visibleColumns(entity, query)
): AsyncGenerator<string> {
  const fields = columns.map((key) => LIST_FIELDS[entity].find((f) => f.key === key)!).filter(Boolean);
  const textual = fields.map((f) => f.type === 'text' || f.type === 'enum' || f.type === 'tags');
  yield BOM + csvLine(fields.map((f) => csvCell(f.label, true)));
  const keys = fields.map((f) => f.key);
  for await (const rows of allRows(db, actor, entity, query)) {
    // One string per batch, built by appending (no array per row or per cell).
    let chunk = '';
    for (const row of rows) {
      for (let i = 0; i < keys.length; i++) {
        if (i > 0) chunk += ',';
        chunk += csvCell(row[keys[i]], textual[i]);
      }
      chunk += '\r\n';
    }
    yield chunk;
  }
}
