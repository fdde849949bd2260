import { Hono } from 'hono';
import type { AppDeps } from '../deps.js';
import type { AppEnv } from '../http/env.js';

/** 200 only when the database answers; the listener's state is reported alongside. */
export const healthRoutes = (deps: AppDeps) =>
  new Hono<AppEnv>().get('/', async (c) => {
    const db = await deps.db
      .query('SELECT 1')
      .then(() => 'up' as const)
      .catch(() => 'down' as const);
    const body = {
      status: db === 'up' ? ('ok' as const) : ('degraded' as const),
      db,
      listener: deps.listenerState()
    };
    return c.json(body, db === 'up' ? 200 : 503);
  });
