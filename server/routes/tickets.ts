import { Hono } from 'hono';
import { IdParam } from '../../src/lib/shared/schemas/people.js';
import { authorizeObject } from '../auth/authorize.js';
import { requireUser } from '../auth/middleware.js';
import { canViewTicket } from '../auth/policies.js';
import { notFound } from '../errors.js';
import type { AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import { Ticket } from '../models/index.js';
import { presentTicket } from '../presenters/live-shapes.js';

export const ticketRoutes = () =>
  new Hono<AppEnv>().get('/:id', requireUser, validate('param', IdParam), async (c) => {
    const { id } = c.req.valid('param');
    const ticket = await Ticket.findByPk(id);
    if (!ticket) throw notFound('Ticket');
    await authorizeObject(canViewTicket(c.var.user!, ticket), { user: c.var.user!, ip: c.var.ip }, { type: 'ticket', id });
    return c.json({ ticket: presentTicket(ticket.get({ plain: true }) as Record<string, unknown>) });
  });
