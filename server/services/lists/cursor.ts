import { z } from 'zod';
import { ORDER_STATUSES, SALES_CHANNELS } from '#shared/enums.js';
import type { SortKey } from '#shared/lists/query.js';
import { AppError } from '../../errors.js';
import type { SortColumn } from './compile.js';
import type { SqlType } from './entities.js';

// The page cursor: the last row's sort values and id, as the database printed them, with the
// sort they belong to; base64url JSON. Opaque to clients and checked on the way back in: a
// cursor that was tampered with, belongs to another sort or holds a value its column cannot
// take is a 400, never a database error.

const MAX_VALUE_LENGTH = 400;

const Shape = z.object({
  s: z.string().max(300),
  v: z.array(z.string().max(MAX_VALUE_LENGTH)).min(1).max(8)
});

const VALID: Record<SqlType, (v: string) => boolean> = {
  integer: (v) => /^-?\d{1,10}$/.test(v) && Math.abs(Number(v)) <= 2147483647,
  smallint: (v) => /^-?\d{1,5}$/.test(v) && Math.abs(Number(v)) <= 32767,
  numeric: (v) => /^-?\d{1,20}(\.\d{1,10})?$/.test(v),
  text: (v) => !v.includes('\u0000'),
  timestamptz: (v) =>
    v === '-infinity' ||
    (/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2}){0,2}$/.test(v) &&
      !Number.isNaN(Date.parse(v.replace(' ', 'T').replace(/([+-]\d{2})$/, '$1:00')))),
  boolean: (v) => v === 'true' || v === 'false',
  order_status: (v) => (ORDER_STATUSES as readonly string[]).includes(v),
  sales_channel: (v) => (SALES_CHANNELS as readonly string[]).includes(v)
};

/** How a sort is named inside its cursors. */
export const sortSignature = (sort: SortKey[]) =>
  sort.map((k) => (k.dir === 'desc' ? `-${k.field}` : k.field)).join(',');

export function encodeCursor(sort: SortKey[], values: string[]): string {
  return Buffer.from(JSON.stringify({ s: sortSignature(sort), v: values }), 'utf8').toString('base64url');
}

const invalid = () =>
  new AppError('validation_failed', 'The page cursor is not valid for this list and sort');

/** The sort values a cursor carries, checked against the columns they will be compared with. */
export function decodeCursor(cursor: string, sort: SortKey[], columns: SortColumn[]): string[] {
  if (!/^[A-Za-z0-9_-]{1,1024}$/.test(cursor)) throw invalid();
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const parsed = Shape.safeParse(raw);
  if (!parsed.success || parsed.data.s !== sortSignature(sort) || parsed.data.v.length !== columns.length)
    throw invalid();
  const values = parsed.data.v;
  if (!values.every((v, i) => VALID[columns[i].type](v))) throw invalid();
  return values;
}
