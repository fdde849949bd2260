import { Hono } from 'hono';
import { DemoActivityBody } from '#shared/schemas/demo.js';
import { requireRole, requireUser } from '../auth/middleware.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { actorOf, type AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import { NO_DEMO_ACTIVITY, setDemoActivityRunning } from '../services/demo-activity.js';

/** The embedded demo's simulated activity: everyone signed in sees its state; managers and admins pause and resume it. */
export const demoActivityRoutes = ({ db, demoActivity }: AppDeps) =>
  new Hono<AppEnv>()
    .get('/', requireUser, (c) => c.json(demoActivity?.status ?? NO_DEMO_ACTIVITY))
    .put('/', requireRole('manager', 'admin'), validate('json', DemoActivityBody), async (c) => {
      if (!demoActivity) {
        throw new AppError(
          'conflict',
          'This server runs no demo activity: it runs only on the demo database of npm start without DATABASE_URL'
        );
      }
      return c.json(
        await setDemoActivityRunning(db, actorOf(c), {
          activity: demoActivity,
          running: c.req.valid('json').running
        })
      );
    });
