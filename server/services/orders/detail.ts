import type { OrderDetail } from '#shared/schemas/inventory.js';
import { money } from '#shared/rules/money.js';
import { isManager } from '../../auth/policies.js';
import type { Db } from '../../data/db.js';
import { notFound } from '../../errors.js';
import type { Actor } from '../../http/env.js';
import { ORDER_ACTIONS_FROM } from '../orders.js';

const iso = (v: unknown) => new Date(v as string).toISOString();

/**
 * The order page: the order with its items (and what each moved in stock), totals, status
 * history (order_status_changes, written by the database), the customer, the tickets about it
 * the user may see, its loyalty entries, and what the user may do to it. Agents and managers
 * see every order (support works all of them); tickets stay within the agent's team.
 */
export async function orderDetail(db: Db, actor: Actor, orderId: number): Promise<OrderDetail> {
  const { user } = actor;
  const [order] = await db.query<Record<string, unknown>>(
    `SELECT o.id, o.status::text AS status, o.order_date, o.total, o.currency, o.channel::text AS channel,
            o.external_id, o.version, o.updated_at, o.customer_id,
            c.first_name, c.last_name, c.email, a.tier::text AS tier, a.balance
       FROM orders o JOIN customers c ON c.id = o.customer_id
       LEFT JOIN loyalty_accounts a ON a.customer_id = o.customer_id
      WHERE o.id = $1`,
    [orderId]
  );
  if (!order) throw notFound('Order');
  const team = isManager(user) ? null : (user.teamId ?? -1);
  const [items, changes, tickets, actionTickets, entries] = await Promise.all([
    db.query<Record<string, unknown>>(
      `SELECT i.id, i.product_id, p.sku, p.name, i.quantity, i.unit_price, i.quantity * i.unit_price AS line_total,
              coalesce(-(SELECT sum(m.quantity) FROM stock_movements m WHERE m.order_item_id = i.id AND m.kind = 'sell'), 0)::int AS sold,
              coalesce((SELECT sum(m.quantity) FROM stock_movements m WHERE m.order_item_id = i.id AND m.kind = 'return'), 0)::int AS returned
         FROM order_items i JOIN products p ON p.id = i.product_id
        WHERE i.order_id = $1 ORDER BY i.id`,
      [orderId]
    ),
    db.query<{ from_status: string; to_status: string; changed_at: Date }>(
      `SELECT from_status::text, to_status::text, changed_at FROM order_status_changes WHERE order_id = $1 ORDER BY changed_at, id`,
      [orderId]
    ),
    db.query<Record<string, unknown>>(
      `SELECT id, subject, status::text AS status, updated_at FROM tickets
        WHERE order_id = $1 AND ($2::int IS NULL OR team_id = $2) ORDER BY id DESC LIMIT 50`,
      [orderId, team]
    ),
    db.query<Record<string, unknown>>(
      `SELECT id, subject FROM tickets
        WHERE customer_id = $1 AND status NOT IN ('closed') AND ($2::int IS NULL OR team_id = $2)
        ORDER BY (order_id IS NOT DISTINCT FROM $3) DESC, last_message_at DESC LIMIT 20`,
      [order.customer_id, team, orderId]
    ),
    db.query<Record<string, unknown>>(
      `SELECT id, kind::text AS kind, points, reason, created_at FROM loyalty_ledger WHERE order_id = $1 ORDER BY id`,
      [orderId]
    )
  ]);

  const status = order.status as OrderDetail['order']['status'];
  const subtotalCents = items.reduce((sum, i) => sum + Math.round(Number(i.line_total) * 100), 0);
  const statusHistory: OrderDetail['statusHistory'] = [
    { from: null, to: changes[0]?.from_status ?? status, at: iso(order.order_date) },
    ...changes.map((c) => ({ from: c.from_status, to: c.to_status, at: iso(c.changed_at) }))
  ];
  const loyaltyEntries = entries.map((e) => ({
    id: Number(e.id),
    kind: e.kind as OrderDetail['loyalty']['entries'][number]['kind'],
    points: Number(e.points),
    reason: String(e.reason),
    createdAt: iso(e.created_at)
  }));
  const sum = (pick: (e: (typeof loyaltyEntries)[number]) => boolean) =>
    loyaltyEntries.filter(pick).reduce((s, e) => s + e.points, 0);
  const manager = isManager(user);
  const canAct = (action: 'refund' | 'cancel') =>
    ORDER_ACTIONS_FROM[action].includes(status) && (manager || actionTickets.length > 0);
  return {
    order: {
      id: Number(order.id),
      status,
      orderDate: iso(order.order_date),
      total: money(order.total),
      subtotal: money(subtotalCents / 100),
      currency: String(order.currency),
      channel: String(order.channel),
      externalId: (order.external_id as string | null) ?? null,
      version: Number(order.version),
      updatedAt: iso(order.updated_at)
    },
    items: items.map((i) => ({
      id: Number(i.id),
      productId: Number(i.product_id),
      sku: String(i.sku),
      name: String(i.name),
      quantity: Number(i.quantity),
      unitPrice: money(i.unit_price),
      lineTotal: money(i.line_total),
      sold: Number(i.sold),
      returned: Number(i.returned)
    })),
    customer: {
      id: Number(order.customer_id),
      name: `${order.first_name} ${order.last_name}`.trim(),
      email: String(order.email),
      tier: (order.tier as string | null) ?? null,
      pointsBalance: order.balance == null ? null : Number(order.balance)
    },
    statusHistory,
    tickets: tickets.map((t) => ({
      id: Number(t.id),
      subject: String(t.subject),
      status: t.status as OrderDetail['tickets'][number]['status'],
      updatedAt: iso(t.updated_at)
    })),
    actionTickets: manager
      ? []
      : actionTickets.map((t) => ({ id: Number(t.id), subject: String(t.subject) })),
    loyalty: {
      entries: loyaltyEntries,
      earned: sum((e) => e.kind === 'earn'),
      redeemed: -sum((e) => e.kind === 'redeem'),
      reversed: -sum((e) => (e.kind === 'reverse' || e.kind === 'adjust') && e.points < 0)
    },
    actions: { refund: canAct('refund'), cancel: canAct('cancel'), needsTicket: !manager }
  };
}
