import { Hono } from 'hono';
import { IdParam } from '#shared/schemas/people.js';
import {
  AgentStatusBody,
  AgentsQuery,
  CannedBody,
  CannedQuery,
  InboundMessage,
  OrderActionBody,
  SlaPoliciesBody
} from '#shared/schemas/tickets.js';
import { integrationOrRole } from '../auth/integration.js';
import { requireRole, requireUser } from '../auth/middleware.js';
import type { AppDeps } from '../deps.js';
import { actorOf, type AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import { changeOrder } from '../services/orders.js';
import { orderDetail } from '../services/orders/detail.js';
import {
  deleteCanned,
  listAgents,
  listCanned,
  listSlaPolicies,
  saveCanned,
  saveSlaPolicies,
  setAvailability
} from '../services/support-settings.js';
import { receiveInbound } from '../services/tickets/inbound.js';

/** Inbound messages from integrations: a new ticket, or a reply on an open one. */
export const inboundRoutes = ({ db, config }: AppDeps) =>
  new Hono<AppEnv>().post(
    '/',
    integrationOrRole(config.INTEGRATION_TOKEN, 'manager', 'admin'),
    validate('json', InboundMessage),
    async (c) => {
      const result = await receiveInbound(db, c.req.valid('json'));
      return c.json(result, result.created ? 201 : 200);
    }
  );

export const cannedRoutes = ({ db }: AppDeps) =>
  new Hono<AppEnv>()
    .get('/', requireUser, validate('query', CannedQuery), async (c) =>
      c.json({ responses: await listCanned(db, actorOf(c), c.req.valid('query')) })
    )
    .post('/', requireRole('manager', 'admin'), validate('json', CannedBody), async (c) =>
      c.json({ response: await saveCanned(db, actorOf(c), { body: c.req.valid('json') }) }, 201)
    )
    .put(
      '/:id',
      requireRole('manager', 'admin'),
      validate('param', IdParam),
      validate('json', CannedBody),
      async (c) =>
        c.json({
          response: await saveCanned(db, actorOf(c), {
            id: c.req.valid('param').id,
            body: c.req.valid('json')
          })
        })
    )
    .delete('/:id', requireRole('manager', 'admin'), validate('param', IdParam), async (c) => {
      await deleteCanned(db, actorOf(c), c.req.valid('param').id);
      return c.json({ ok: true as const });
    });

export const slaRoutes = ({ db }: AppDeps) =>
  new Hono<AppEnv>()
    .get('/', requireUser, async (c) => c.json({ policies: await listSlaPolicies(db) }))
    .put('/', requireRole('manager', 'admin'), validate('json', SlaPoliciesBody), async (c) =>
      c.json({ policies: await saveSlaPolicies(db, actorOf(c), c.req.valid('json').policies) })
    );

export const agentRoutes = ({ db }: AppDeps) =>
  new Hono<AppEnv>().get('/', requireUser, validate('query', AgentsQuery), async (c) =>
    c.json({ agents: await listAgents(db, actorOf(c), c.req.valid('query')) })
  );

export const meRoutes = ({ db }: AppDeps) =>
  new Hono<AppEnv>().put('/status', requireUser, validate('json', AgentStatusBody), async (c) =>
    c.json({ status: await setAvailability(db, actorOf(c), c.req.valid('json').status) })
  );

export const orderRoutes = ({ db }: AppDeps) =>
  new Hono<AppEnv>()
    .get('/:id', requireUser, validate('param', IdParam), async (c) =>
      c.json(await orderDetail(db, actorOf(c), c.req.valid('param').id))
    )
    .post(
      '/:id/refund',
      requireUser,
      validate('param', IdParam),
      validate('json', OrderActionBody),
      async (c) =>
        c.json({
          order: await changeOrder(db, actorOf(c), {
            orderId: c.req.valid('param').id,
            action: 'refund',
            ticketId: c.req.valid('json').ticketId
          })
        })
    )
    .post(
      '/:id/cancel',
      requireUser,
      validate('param', IdParam),
      validate('json', OrderActionBody),
      async (c) =>
        c.json({
          order: await changeOrder(db, actorOf(c), {
            orderId: c.req.valid('param').id,
            action: 'cancel',
            ticketId: c.req.valid('json').ticketId
          })
        })
    );
