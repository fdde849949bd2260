import { money } from '#shared/rules/money.js';
import type { LoyaltyTier } from '#shared/enums.js';
import type { CustomerPanel, MessageWithAuthor, TicketDetail } from '#shared/schemas/tickets.js';
import type { Actor } from '../../auth/actor.js';
import { authorizeObject } from '../../auth/authorize.js';
import { canViewTicket, isManager } from '../../auth/policies.js';
import type { Db, Row } from '../../data/db.js';
import { notFound } from '../../errors.js';
import { camelKeys } from '../../presenters/camel-keys.js';
import {
  presentCustomer,
  presentMessage,
  presentOrder,
  presentTicket
} from '../../presenters/live-shapes.js';
import { findQueueRow, presentQueueRow } from './queue.js';
import { COUNTED, OPEN_WORK } from '../sql.js';

/** Loads a ticket the user may see, or answers "not found" (and audits the attempt). */
async function loadVisibleTicket(db: Db, actor: Actor, id: number) {
  const row = await findQueueRow(db, id);
  if (!row) throw notFound('Ticket');
  await authorizeObject(db, canViewTicket(actor.user, { teamId: Number(row.team_id) }), actor, {
    type: 'ticket',
    id
  });
  return row;
}

export async function getTicketDetail(db: Db, actor: Actor, id: number): Promise<TicketDetail> {
  const row = await loadVisibleTicket(db, actor, id);
  const [team] = await db.query<{ id: number; name: string }>(`SELECT id, name FROM teams WHERE id = $1`, [
    row.team_id
  ]);
  const messages = await db.query<Row>(
    `SELECT m.*, u.name AS author_name FROM ticket_messages m LEFT JOIN users u ON u.id = m.author_user_id
      WHERE m.ticket_id = $1 ORDER BY m.created_at, m.id`,
    [id]
  );
  return {
    ticket: { ...presentQueueRow(row), team: { id: team.id, name: team.name } },
    messages: messages.map(presentAuthoredMessage),
    panel: await customerPanel(db, actor, { customerId: Number(row.customer_id), exceptTicketId: id })
  };
}

export function presentAuthoredMessage(row: Row): MessageWithAuthor {
  return {
    ...presentMessage(camelKeys(row)),
    author: row.author_user_id
      ? { id: Number(row.author_user_id), name: String(row.author_name ?? 'Former agent') }
      : null
  };
}

/** Contact, loyalty, lifetime value, recent orders and the other open tickets the user may see. */
export async function customerPanel(
  db: Db,
  actor: Actor,
  { customerId, exceptTicketId }: { customerId: number; exceptTicketId?: number }
): Promise<CustomerPanel> {
  const { user } = actor;
  const [customer] = await db.query<Row>(`SELECT * FROM customers WHERE id = $1`, [customerId]);
  if (!customer) throw notFound('Customer');
  const [loyalty] = await db.query<{
    balance: number;
    pending: number;
    lifetime_points: number;
    tier: LoyaltyTier;
    version: number;
    goodwill_granted: number;
    goodwill_limit: number;
  }>(
    `SELECT balance, pending, lifetime_points, tier, version,
            (SELECT coalesce(sum(points), 0)::int FROM loyalty_ledger WHERE ticket_id = $2) AS goodwill_granted,
            (loyalty_program_at(now()) ->> 'goodwillLimitPerTicket')::int AS goodwill_limit
       FROM loyalty_accounts WHERE customer_id = $1`,
    [customerId, exceptTicketId ?? 0]
  );
  const [value] = await db.query<{ ltv: string; orders: number }>(
    `SELECT coalesce(sum(total) FILTER (WHERE ${COUNTED}), 0)::text AS ltv, count(*)::int AS orders
       FROM orders WHERE customer_id = $1`,
    [customerId]
  );
  const orders = await db.query<Row>(
    `SELECT * FROM orders WHERE customer_id = $1 ORDER BY order_date DESC, id DESC LIMIT 5`,
    [customerId]
  );
  const tickets = await db.query<Row>(
    `SELECT * FROM tickets WHERE customer_id = $1 AND ${OPEN_WORK} AND id <> $2
        AND ($3 OR team_id = $4) ORDER BY updated_at DESC LIMIT 10`,
    [customerId, exceptTicketId ?? 0, isManager(user), user.teamId ?? -1]
  );
  return {
    customer: presentCustomer(camelKeys(customer)),
    loyalty: loyalty
      ? {
          balance: loyalty.balance,
          pending: loyalty.pending,
          available: loyalty.balance - loyalty.pending,
          lifetimePoints: loyalty.lifetime_points,
          tier: loyalty.tier,
          version: loyalty.version,
          goodwillGranted: loyalty.goodwill_granted,
          goodwillLimit: loyalty.goodwill_limit
        }
      : null,
    lifetimeValue: money(value.ltv),
    orderCount: value.orders,
    recentOrders: orders.map((o) => presentOrder(camelKeys(o))),
    openTickets: tickets.map((t) => {
      const p = presentTicket(camelKeys(t));
      return { id: p.id, subject: p.subject, status: p.status, priority: p.priority, updatedAt: p.updatedAt };
    })
  };
}
