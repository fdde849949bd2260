import { Hono } from 'hono';
import {
  AdjustBody,
  ExpiringQuery,
  GoodwillBody,
  IdempotencyHeader,
  LedgerQuery,
  RedeemBody
} from '#shared/schemas/loyalty.js';
import { IdParam } from '#shared/schemas/people.js';
import { requireRole, requireUser } from '../auth/middleware.js';
import type { AppDeps } from '../deps.js';
import { actorOf, type AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import { accountDetail, expiringPoints, ledgerPage, rewardsCatalogue } from '../services/loyalty/account.js';
import { adjustPoints, grantGoodwill, redeemReward } from '../services/loyalty/actions.js';

const managers = requireRole('manager', 'admin');

/**
 * Under /api/loyalty: a member's points (available and pending apart, the lots behind them), the
 * ledger, redeeming a reward, a manager's adjustment, an agent's goodwill from a ticket, the
 * rewards catalogue and the members whose points expire soon. Changes take an Idempotency-Key.
 */
export const loyaltyRoutes = ({ db }: AppDeps) =>
  new Hono<AppEnv>()
    .get('/rewards', requireUser, async (c) => c.json(await rewardsCatalogue(db)))
    .get('/expiring', managers, validate('query', ExpiringQuery), async (c) =>
      c.json(await expiringPoints(db, actorOf(c), c.req.valid('query')))
    )
    .get('/customers/:id', requireUser, validate('param', IdParam), async (c) =>
      c.json({ account: await accountDetail(db, actorOf(c), c.req.valid('param').id) })
    )
    .get(
      '/customers/:id/ledger',
      requireUser,
      validate('param', IdParam),
      validate('query', LedgerQuery),
      async (c) => c.json(await ledgerPage(db, actorOf(c), c.req.valid('param').id, c.req.valid('query')))
    )
    .post(
      '/customers/:id/redeem',
      requireUser,
      validate('param', IdParam),
      validate('header', IdempotencyHeader),
      validate('json', RedeemBody),
      async (c) =>
        c.json(
          await redeemReward(
            db,
            actorOf(c),
            c.req.valid('param').id,
            c.req.valid('json'),
            c.req.valid('header')['idempotency-key']
          )
        )
    )
    .post(
      '/customers/:id/adjust',
      managers,
      validate('param', IdParam),
      validate('header', IdempotencyHeader),
      validate('json', AdjustBody),
      async (c) =>
        c.json(
          await adjustPoints(
            db,
            actorOf(c),
            c.req.valid('param').id,
            c.req.valid('json'),
            c.req.valid('header')['idempotency-key']
          )
        )
    )
    .post(
      '/customers/:id/goodwill',
      requireUser,
      validate('param', IdParam),
      validate('header', IdempotencyHeader),
      validate('json', GoodwillBody),
      async (c) =>
        c.json(
          await grantGoodwill(
            db,
            actorOf(c),
            c.req.valid('param').id,
            c.req.valid('json'),
            c.req.valid('header')['idempotency-key']
          )
        )
    );
