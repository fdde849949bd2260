import type pg from 'pg';
import pino from 'pino';
import { createApi } from '../../server/app.js';
import { createLucia } from '../../server/auth/lucia.js';
import { loadConfig } from '../../server/config.js';
import { poolDb } from '../../server/data/db.js';

/** Every route of the app, as `METHOD /api/path/:param`, sorted. */
export function appRouteKeys(sql: pg.Pool): string[] {
  const config = loadConfig({ NODE_ENV: 'test' });
  const api = createApi({
    config,
    db: poolDb(sql),
    auth: createLucia(config),
    logger: pino({ level: 'silent' }),
    listenerState: () => 'stopped'
  });
  return [
    ...new Set(api.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path}`))
  ].sort();
}
