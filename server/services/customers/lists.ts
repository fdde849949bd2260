import { money } from '#shared/rules/money.js';
import type { CustomerLoyaltyRow, CustomerOrderRow, CustomerTicketRow } from '#shared/schemas/customer360.js';
import type { Db } from '../../data/db.js';
import type { Actor } from '../../http/env.js';
import { canViewTicket } from '../../auth/policies.js';
import { customerRow } from './profile.js';

type Row = Record<string, unknown>;
const iso = (v: unknown) => new Date(v as string).toISOString();
export interface Page<T> {
  rows: T[];
  /** Pass as `before` for the next page; null at the end. */
  next: number | null;
}

const paged = <T extends { id: number }>(rows: T[], limit: number): Page<T> => ({
  rows: rows.slice(0, limit),
  next: rows.length > limit ? rows[limit - 1].id : null
});

/** The customer's orders, newest first (by id: orders are numbered as they come), with links. */
export async function customerOrders(
  db: Db,
  actor: Actor,
  customerId: number,
  q: { before?: number; limit: number }
): Promise<Page<CustomerOrderRow>> {
  await customerRow(db, actor.user, customerId);
  const rows = await db.query<Row>(
    `SELECT o.*, (SELECT coalesce(sum(quantity), 0)::int FROM order_items i WHERE i.order_id = o.id) AS items
       FROM orders o WHERE o.customer_id = $1 AND o.id < $2 ORDER BY o.id DESC LIMIT $3`,
    [customerId, q.before ?? 2147483647, q.limit + 1]
  );
  return paged(
    rows.map((o) => ({
      id: Number(o.id),
      orderDate: iso(o.order_date),
      status: o.status as CustomerOrderRow['status'],
      total: money(o.total),
      currency: String(o.currency),
      channel: o.channel as CustomerOrderRow['channel'],
      externalId: (o.external_id as string | null) ?? null,
      items: Number(o.items),
      version: Number(o.version),
      href: `/orders/${o.id}`
    })),
    q.limit
  );
}

/**
 * The customer's tickets, newest first. Every ticket is listed (status and CSAT are the
 * customer's history), but a link and the subject only where the viewer may open the ticket.
 */
export async function customerTickets(
  db: Db,
  actor: Actor,
  customerId: number,
  q: { before?: number; limit: number }
): Promise<Page<CustomerTicketRow>> {
  await customerRow(db, actor.user, customerId);
  const rows = await db.query<Row>(
    `SELECT id, subject, status, priority, csat_score, team_id, created_at, updated_at, version
       FROM tickets WHERE customer_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`,
    [customerId, q.before ?? 2147483647, q.limit + 1]
  );
  return paged(
    rows.map((t) => {
      const open = canViewTicket(actor.user, { teamId: Number(t.team_id) });
      return {
        id: Number(t.id),
        subject: open ? String(t.subject) : 'Another team’s ticket',
        status: t.status as CustomerTicketRow['status'],
        priority: String(t.priority),
        csatScore: t.csat_score == null ? null : Number(t.csat_score),
        createdAt: iso(t.created_at),
        updatedAt: iso(t.updated_at),
        version: Number(t.version),
        href: open ? `/console/tickets/${t.id}` : null
      };
    }),
    q.limit
  );
}

/** The loyalty ledger, newest first. */
export async function customerLoyalty(
  db: Db,
  actor: Actor,
  customerId: number,
  q: { before?: number; limit: number }
): Promise<Page<CustomerLoyaltyRow>> {
  await customerRow(db, actor.user, customerId);
  const rows = await db.query<Row>(
    `SELECT l.* FROM loyalty_accounts a JOIN loyalty_ledger l ON l.account_id = a.id
      WHERE a.customer_id = $1 AND l.id < $2 ORDER BY l.id DESC LIMIT $3`,
    [customerId, q.before ?? Number.MAX_SAFE_INTEGER, q.limit + 1]
  );
  return paged(
    rows.map((l) => ({
      id: Number(l.id),
      kind: l.kind as CustomerLoyaltyRow['kind'],
      points: Number(l.points),
      reason: String(l.reason),
      orderId: l.order_id == null ? null : Number(l.order_id),
      createdAt: iso(l.created_at),
      orderHref: l.order_id == null ? null : `/orders/${l.order_id}`,
      bonus: (l.bonus as CustomerLoyaltyRow['bonus']) ?? null
    })),
    q.limit
  );
}
