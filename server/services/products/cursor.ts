import { AppError } from '../../errors.js';

// Keyset cursors: the sort key of the last row handed out, as base64url JSON. Opaque to clients;
// one that does not decode to the expected shape is a 400, never a 500.

export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor<T extends unknown[]>(cursor: string, check: (key: unknown[]) => key is T): T {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = null;
  }
  if (!Array.isArray(key) || !check(key)) throw new AppError('bad_request', 'The cursor is not valid');
  return key;
}

export const isId = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v > 0 && v <= Number.MAX_SAFE_INTEGER;
export const isIsoDate = (v: unknown): v is string =>
  typeof v === 'string' && v.length <= 40 && Number.isFinite(Date.parse(v));
