import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.js';
import { decodeCursor, encodeCursor } from './queue.js';

// The queue's page cursor: what it hands out comes back as it was; anything else is the API's
// 400 (validation_failed), never a database error or a 500.

const refused = (raw: string) => {
  try {
    decodeCursor(raw);
  } catch (err) {
    return err instanceof AppError ? { code: err.code, status: err.status } : err;
  }
  return 'accepted';
};
const REFUSED = { code: 'validation_failed', status: 400 };
const b64 = (s: string) => Buffer.from(s).toString('base64url');

describe('the ticket queue cursor', () => {
  it('comes back as it was handed out, with a due time or none', () => {
    for (const cursor of [
      { due: '2026-06-15T10:30:00.000Z', id: 42 },
      { due: '2026-06-15 10:30:00.123456+00', id: 1 },
      { due: null, id: Number.MAX_SAFE_INTEGER }
    ])
      expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
  });

  it('refuses garbage: not base64, not JSON, not a pair', () => {
    for (const raw of [
      '',
      '%%%',
      'not a cursor',
      b64('{"due":null,"id":1}'),
      b64('null'),
      b64('7'),
      b64('[')
    ])
      expect(refused(raw)).toEqual(REFUSED);
  });

  it('refuses a tampered cursor: an id that is no integer, a due time that is no time', () => {
    for (const tampered of [
      [null, '42'],
      [null, 1.5],
      [null, 2 ** 60],
      ['yesterday-ish', 42],
      [42, 42],
      [null]
    ])
      expect(refused(b64(JSON.stringify(tampered)))).toEqual(REFUSED);
  });

  it('refuses huge input the same way', () => {
    expect(refused('A'.repeat(5_000_000))).toEqual(REFUSED);
    expect(refused(b64('['.repeat(1_000_000)))).toEqual(REFUSED);
    expect(refused(b64(JSON.stringify([null, '9'.repeat(100_000)])))).toEqual(REFUSED);
  });
});
