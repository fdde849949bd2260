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
export const inboundRoutes = ({ sequelize, config }: AppDeps) =>
  new Hono<AppEnv>().post(
    '/',
    integrationOrRole(config.INTEGRATION_TOKEN, 'manager', 'admin'),
    validate('json', InboundMessage),
    async (c) => {
      const result = await receiveInbound(sequelize, c.req.valid('json'));
      return c.json(result, result.created ? 201 : 200);
    }
  );

export const cannedRoutes = ({ sequelize }: AppDeps) =>
  new Hono<AppEnv>()
    .get('/', requireUser, validate('query', CannedQuery), async (c) =>
      c.json({ responses: await listCanned(sequelize, c.var.user, c.req.valid('query').q) })
    )
    .post('/', requireRole('manager', 'admin'), validate('json', CannedBody), async (c) =>
      c.json({ response: await saveCanned(sequelize, actorOf(c), c.req.valid('json')) }, 201)
    )
    .put(
      '/:id',
      requireRole('manager', 'admin'),
      validate('param', IdParam),
      validate('json', CannedBody),
      async (c) =>
        c.json({
          response: await saveCanned(sequelize, actorOf(c), c.req.valid('json'), c.req.valid('param').id)
        })
    )
    .delete('/:id', requireRole('manager', 'admin'), validate('param', IdParam), async (c) => {
      await deleteCanned(sequelize, actorOf(c), c.req.valid('param').id);
      return c.json({ ok: true as const });
    });

export const slaRoutes = ({ sequelize }: AppDeps) =>
  new Hono<AppEnv>()
    .get('/', requireUser, async (c) => c.json({ policies: await listSlaPolicies(sequelize) }))
    .put('/', requireRole('manager', 'admin'), validate('json', SlaPoliciesBody), async (c) =>
      c.json({ policies: await saveSlaPolicies(sequelize, actorOf(c), c.req.valid('json').policies) })
    );

export const agentRoutes = ({ sequelize }: AppDeps) =>
  new Hono<AppEnv>().get('/', requireUser, validate('query', AgentsQuery), async (c) =>
    c.json({ agents: await listAgents(sequelize, c.var.user, c.req.valid('query').teamId) })
  );

export const meRoutes = ({ sequelize }: AppDeps) =>
  new Hono<AppEnv>().put('/status', requireUser, validate('json', AgentStatusBody), async (c) =>
    c.json({ status: await setAvailability(sequelize, c.var.user, c.req.valid('json').status) })
  );

export const orderRoutes = ({ sequelize, db }: AppDeps) =>
  new Hono<AppEnv>()
    .get('/:id', requireUser, validate('param', IdParam), async (c) =>
      c.json(await orderDetail(db, c.var.user, c.req.valid('param').id))
    )
    .post(
      '/:id/refund',
      requireUser,
      validate('param', IdParam),
      validate('json', OrderActionBody),
      async (c) =>
        c.json({
          order: await changeOrder(
            sequelize,
            actorOf(c),
            c.req.valid('param').id,
            'refund',
            c.req.valid('json').ticketId
          )
        })
    )
    .post(
      '/:id/cancel',
      requireUser,
      validate('param', IdParam),
      validate('json', OrderActionBody),
      async (c) =>
        c.json({
          order: await changeOrder(
            sequelize,
            actorOf(c),
            c.req.valid('param').id,
            'cancel',
            c.req.valid('json').ticketId
          )
        })
    );
