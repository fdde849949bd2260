import { Hono } from 'hono';
import type { AppDeps } from '../deps.js';
import type { AppEnv } from '../http/env.js';

/** Public facts the login page needs: whether the demo accounts exist, the store's time zone. */
export const metaRoutes = (deps: AppDeps) => {
  let demo: { value: boolean; at: number } | undefined;
  return new Hono<AppEnv>().get('/', async (c) => {
    if (!demo || Date.now() - demo.at > 60_000) {
      const [row] = await deps.db.query<{ demo: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM users WHERE email = 'agent@pulse.demo' AND active) AS demo`
      );
      demo = { value: row.demo, at: Date.now() };
    }
    return c.json({ demo: demo.value, timezone: deps.config.STORE_TIMEZONE });
  });
};
