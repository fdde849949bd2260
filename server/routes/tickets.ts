import { Hono } from 'hono';
import { IdParam } from '#shared/schemas/people.js';
import { CsatBody, QueueQuery, ReplyBody, TicketPatch } from '#shared/schemas/tickets.js';
import { integrationOrRole } from '../auth/integration.js';
import { requireUser } from '../auth/middleware.js';
import type { AppDeps } from '../deps.js';
import { actorOf, type AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import { addAgentMessage, claimTicket, patchTicket, recordCsat } from '../services/tickets/actions.js';
import { getTicketDetail } from '../services/tickets/detail.js';
import { listQueue } from '../services/tickets/queue.js';

/** The ticket console's API: every action is a row change that flows back through the live path. */
export const ticketRoutes = ({ db, config }: AppDeps) =>
  new Hono<AppEnv>()
    .get('/', requireUser, validate('query', QueueQuery), async (c) =>
      c.json(await listQueue(db, actorOf(c), c.req.valid('query')))
    )
    .get('/:id', requireUser, validate('param', IdParam), async (c) =>
      c.json(await getTicketDetail(db, actorOf(c), c.req.valid('param').id))
    )
    .patch('/:id', requireUser, validate('param', IdParam), validate('json', TicketPatch), async (c) => {
      const ticket = await patchTicket(db, actorOf(c), {
        id: c.req.valid('param').id,
        patch: c.req.valid('json')
      });
      return c.json({ ticket });
    })
    .post('/:id/claim', requireUser, validate('param', IdParam), async (c) => {
      const ticket = await claimTicket(db, actorOf(c), c.req.valid('param').id);
      return c.json({ ticket });
    })
    .post(
      '/:id/messages',
      requireUser,
      validate('param', IdParam),
      validate('json', ReplyBody),
      async (c) => {
        const result = await addAgentMessage(db, actorOf(c), {
          id: c.req.valid('param').id,
          reply: c.req.valid('json')
        });
        return c.json(result, 201);
      }
    )
    .post(
      '/:id/csat',
      integrationOrRole(config.INTEGRATION_TOKEN, 'manager', 'admin'),
      validate('param', IdParam),
      validate('json', CsatBody),
      async (c) => {
        const ticket = await recordCsat(db, {
          id: c.req.valid('param').id,
          score: c.req.valid('json').score
        });
        return c.json({ ticket });
      }
    );
