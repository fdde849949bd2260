import { createMiddleware } from 'hono/factory';
import { HORIZON_HEADER } from '#shared/stream-position.js';
import type { Db } from '../data/db.js';
import type { AppEnv } from './env.js';

/**
 * Says which point of the change stream a GET's answer reflects (the `Pulse-Horizon` header): a
 * snapshot taken before the handler reads, so every change before it is in the answer. A screen
 * that builds state from the answer resumes the live stream from there; changes after it that the
 * answer already shows arrive again and are dropped by version.
 */
export const streamPosition = (db: Db) =>
  createMiddleware<AppEnv>(async (c, next) => {
    if (c.req.method === 'GET') {
      const [row] = await db.query<{ snapshot: string }>(`SELECT pg_current_snapshot()::text AS snapshot`);
      c.header(HORIZON_HEADER, row.snapshot);
    }
    await next();
  });
