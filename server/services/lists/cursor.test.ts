import { describe, expect, it } from 'vitest';
import type { SortKey } from '#shared/lists/query.js';
import { AppError } from '../../errors.js';
import type { SortColumn } from './compile.js';
import { decodeCursor, encodeCursor } from './cursor.js';

// A list's page cursor: the last row's sort values as the database printed them, for one sort.
// What it hands out comes back as it was; anything else is the API's 400 (validation_failed).

const sort: SortKey[] = [
  { field: 'lastOrderAt', dir: 'desc' },
  { field: 'id', dir: 'asc' }
];
const columns: SortColumn[] = [
  { expr: 'c.last_order_at', type: 'timestamptz', dir: 'desc' },
  { expr: 'c.id', type: 'integer', dir: 'asc' }
];
const REFUSED = { code: 'validation_failed', status: 400 };

const refused = (cursor: string, s = sort, c = columns) => {
  try {
    decodeCursor(cursor, s, c);
  } catch (err) {
    return err instanceof AppError ? { code: err.code, status: err.status } : err;
  }
  return 'accepted';
};
const b64 = (s: string) => Buffer.from(s).toString('base64url');

describe('the list cursor', () => {
  it('comes back as it was handed out', () => {
    const values = ['2026-06-15 10:30:00.123456+00', '42'];
    expect(decodeCursor(encodeCursor(sort, values), sort, columns)).toEqual(values);
    expect(decodeCursor(encodeCursor(sort, ['-infinity', '-7']), sort, columns)).toEqual(['-infinity', '-7']);
  });

  it('refuses garbage: not base64url, not JSON, not its shape', () => {
    for (const raw of ['', 'a b', '%%%', b64('not json'), b64('null'), b64('[1,2]'), b64('{"s":"id"}')])
      expect(refused(raw)).toEqual(REFUSED);
  });

  it('refuses a cursor of another sort, or with values its columns cannot take', () => {
    const other: SortKey[] = [{ field: 'id', dir: 'asc' }];
    expect(refused(encodeCursor(other, ['42']), sort, columns)).toEqual(REFUSED);
    expect(refused(encodeCursor(sort, ['42']))).toEqual(REFUSED);
    for (const values of [
      ['2026-06-15', '42'],
      ['2026-06-15 10:30:00+00', '4.2'],
      ['2026-06-15 10:30:00+00', '99999999999'],
      ["2026-06-15 10:30:00+00'; DROP TABLE customers; --", '1'],
      ['2026-13-45 99:99:99+00', '1']
    ])
      expect(refused(encodeCursor(sort, values))).toEqual(REFUSED);
  });

  it('refuses a text value holding a NUL, which Postgres cannot take', () => {
    const byName: SortKey[] = [{ field: 'name', dir: 'asc' }];
    const text: SortColumn[] = [{ expr: 'c.name', type: 'text', dir: 'asc' }];
    expect(decodeCursor(encodeCursor(byName, ['Ann']), byName, text)).toEqual(['Ann']);
    expect(refused(encodeCursor(byName, ['A\u0000nn']), byName, text)).toEqual(REFUSED);
  });

  it('refuses huge input the same way', () => {
    expect(refused('A'.repeat(5_000_000))).toEqual(REFUSED);
    expect(refused(encodeCursor(sort, ['x'.repeat(10_000), '1']))).toEqual(REFUSED);
  });
});
