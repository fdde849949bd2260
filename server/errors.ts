import { ERROR_CODES, type ErrorCode } from '#shared/errors.js';

/** Services throw this; `app.onError` turns it into the one error shape. */
export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>
  ) {
    super(message);
    this.status = ERROR_CODES[code];
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
// Postgres SQLSTATE classes a client caused (bad data) rather than the server.
const CLIENT_SQLSTATES: Record<string, { code: ErrorCode; message: string }> = {
  '23505': { code: 'conflict', message: 'That already exists' },
  '23503': { code: 'unprocessable', message: 'A referenced record does not exist' },
  '23514': { code: 'unprocessable', message: 'The data breaks a rule' },
  '23502': { code: 'unprocessable', message: 'A required value is missing' },
  '22P02': { code: 'validation_failed', message: 'A value has the wrong format' },
  '22021': { code: 'validation_failed', message: 'A value holds a character the database cannot store' },
  '22P05': { code: 'validation_failed', message: 'A value holds a character the database cannot store' },
  '22001': { code: 'validation_failed', message: 'A value is too long' },
  '22003': { code: 'validation_failed', message: 'A number is out of range' },
  '22007': { code: 'validation_failed', message: 'A date has the wrong format' },
  '22008': { code: 'validation_failed', message: 'A date is out of range' },
  // A merged customer's row is frozen (migration 0017): the edit came after the merge.
  '55000': { code: 'conflict', message: 'This customer was merged into another; reload to see where' },
  '40001': { code: 'conflict', message: 'A concurrent change won; try again' },
  '40P01': { code: 'conflict', message: 'A concurrent change won; try again' }
};

// The database is not there (stopped, restarting, a connection cut by an administrator): the
// request did nothing, and the same request will work again shortly. Connection-level failures
// from pg (errno codes) and Sequelize (its ConnectionError family), and the SQLSTATEs of class 08
// (connection exception) and 57P01-57P03 (admin shutdown, crash shutdown, cannot connect now).
const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH'
]);
const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'Client has encountered a connection error',
  'timeout exceeded when trying to connect'
];

type Failure = { name?: unknown; code?: unknown; message?: unknown; original?: unknown; parent?: unknown };

/** The error and the ones it wraps (Sequelize keeps pg's as `original`/`parent`). */
function* causes(err: unknown): Generator<Failure> {
  let e = err as Failure | undefined;
  for (let depth = 0; e && typeof e === 'object' && depth < 3; depth++) {
    yield e;
    e = (e.original ?? e.parent) as Failure | undefined;
  }
}

function databaseUnavailable(err: unknown): boolean {
  for (const e of causes(err)) {
    const name = typeof e.name === 'string' ? e.name : '';
    if (
      /^Sequelize(Connection|HostNotReachable|ConnectionRefused|ConnectionTimedOut|ConnectionAcquireTimeout)/.test(
        name
      )
    )
      return true;
    const code = typeof e.code === 'string' ? e.code : '';
    if (UNAVAILABLE_ERRNOS.has(code) || code.startsWith('08') || ['57P01', '57P02', '57P03'].includes(code))
      return true;
    const message = typeof e.message === 'string' ? e.message : '';
    if (UNAVAILABLE_MESSAGES.some((m) => message.startsWith(m))) return true;
  }
  return false;
}

/**
 * Maps a database error to an AppError: bad input to its 4xx, an unreachable database to a 503
 * the client may retry; anything else stays a 500.
 */
export function fromDatabaseError(err: unknown): AppError | null {
  if (databaseUnavailable(err))
    return new AppError(
      'unavailable',
      'The database is not reachable right now; try again shortly',
      undefined,
      {
        'Retry-After': '5'
      }
    );
  if ((err as Error)?.name === 'SequelizeValidationError') {
    const items = (err as { errors?: { path?: string; message?: string }[] }).errors ?? [];
    return new AppError(
      'validation_failed',
      'Some values are missing or invalid',
      items.map((i) => ({ path: i.path, message: i.message }))
    );
  }
  const original =
    (err as { original?: { code?: string; constraint?: string } })?.original ??
    (err as { parent?: { code?: string; constraint?: string } })?.parent ??
    (err as { code?: string; constraint?: string });
  const sqlState = typeof original?.code === 'string' ? original.code : undefined;
  if (!sqlState || !(sqlState in CLIENT_SQLSTATES)) return null;
  const known = CLIENT_SQLSTATES[sqlState];
  return new AppError(
    known.code,
    known.message,
    original?.constraint ? { constraint: original.constraint } : undefined
  );
}
