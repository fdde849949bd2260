import { Hono } from 'hono';
import { CreateWallboardTokenBody, ThresholdsBody, WallboardQuery } from '#shared/schemas/metrics.js';
import { IdParam } from '#shared/schemas/people.js';
import { requireRole } from '../auth/middleware.js';
import { isManager } from '../auth/policies.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { actorOf, type AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import { computeSnapshot } from '../services/wallboard/compute.js';
import { loadWallboardState } from '../services/wallboard/load.js';
import { listThresholds, saveThresholds } from '../services/wallboard/thresholds.js';
import {
  createWallboardToken,
  listWallboardTokens,
  revokeWallboardToken,
  verifyWallboardToken
} from '../services/wallboard/tokens.js';

/**
 * The wallboard: its numbers (managers, or a TV's `?token=`), the thresholds that put tiles in
 * alert, and the TV links. Live updates come over the socket (`wallboard:updated`).
 */
export const wallboardRoutes = ({ db, config }: AppDeps) => {
  return (
    new Hono<AppEnv>()
      // Recomputed from SQL on each call: the same numbers the live path keeps (tests hold them equal).
      .get('/', validate('query', WallboardQuery), async (c) => {
        const { token } = c.req.valid('query');
        const user = c.var.user;
        if (!(user && isManager(user)) && !(token && (await verifyWallboardToken(db, token)))) {
          if (token) throw new AppError('unauthenticated', 'This wallboard link was revoked or is not valid');
          if (!user)
            throw new AppError('unauthenticated', 'Sign in, or open the wallboard link you were given');
          throw new AppError('forbidden', 'The wallboard is for managers');
        }
        const now = Date.now();
        const unreadable = (topic: string, entityId: number, err: unknown) =>
          c.var.log.warn({ err, topic, entityId }, 'wallboard could not read a row; left out');
        const snapshot = computeSnapshot(
          await loadWallboardState(db, config.STORE_TIMEZONE, now, unreadable),
          now
        );
        c.header('Cache-Control', 'no-store');
        return c.json(snapshot);
      })
      .get('/thresholds', requireRole('manager', 'admin'), async (c) =>
        c.json({ thresholds: await listThresholds(db) })
      )
      .put('/thresholds', requireRole('manager', 'admin'), validate('json', ThresholdsBody), async (c) =>
        c.json({ thresholds: await saveThresholds(db, actorOf(c), c.req.valid('json').thresholds) })
      )
      .get('/tokens', requireRole('manager', 'admin'), async (c) =>
        c.json({ tokens: await listWallboardTokens(db) })
      )
      .post(
        '/tokens',
        requireRole('manager', 'admin'),
        validate('json', CreateWallboardTokenBody),
        async (c) => c.json(await createWallboardToken(db, actorOf(c), c.req.valid('json').name), 201)
      )
      .delete('/tokens/:id', requireRole('manager', 'admin'), validate('param', IdParam), async (c) =>
        c.json({ token: await revokeWallboardToken(db, actorOf(c), c.req.valid('param').id) })
      )
  );
};
