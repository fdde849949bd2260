import { money } from '#shared/rules/money.js';
import type { OrderSummary } from '#shared/schemas/live.js';
import type { Actor } from '../auth/actor.js';
import { authorizeObject } from '../auth/authorize.js';
import { canViewTicket, isManager } from '../auth/policies.js';
import type { Db } from '../data/db.js';
import { AppError, notFound } from '../errors.js';
import { actAs } from './audit.js';
import { camelKeys } from '../presenters/camel-keys.js';
import { presentOrder } from '../presenters/live-shapes.js';

export type OrderAction = 'refund' | 'cancel';

/** The statuses each action may start from (the order page shows the actions these allow). */
export const ORDER_ACTIONS_FROM: Record<OrderAction, string[]> = {
  cancel: ['pending', 'paid'],
  refund: ['paid', 'fulfilled', 'shipped', 'delivered']
};

/**
 * Refunds or cancels an order and, in the same transaction, reverses the loyalty points it
 * earned (points the customer already spent are taken back only down to zero) and returns the
 * points redeemed on it. Agents act through a ticket of the order's customer; managers directly.
 */
export async function changeOrder(
  db: Db,
  actor: Actor,
  { orderId, action, ticketId }: { orderId: number; action: OrderAction; ticketId?: number }
): Promise<OrderSummary> {
  await db.transaction(async (t) => {
    // The order's status history names who refunded or cancelled it.
    await actAs(t, actor);
    const [order] = await t.query<{ id: number; customer_id: number; status: string; total: string }>(
      `SELECT id, customer_id, status, total FROM orders WHERE id = $1 FOR UPDATE`,
      [orderId]
    );
    if (!order) throw notFound('Order');
    let ticket: { id: number; team_id: number } | undefined;
    if (ticketId) {
      [ticket] = await t.query<{ id: number; team_id: number }>(
        `SELECT id, team_id FROM tickets WHERE id = $1 AND customer_id = $2`,
        [ticketId, order.customer_id]
      );
      if (!ticket) throw new AppError('unprocessable', 'The ticket must belong to the order’s customer');
      // Through `db`, not `t`: the denial is recorded although this transaction rolls back.
      await authorizeObject(db, canViewTicket(actor.user, { teamId: ticket.team_id }), actor, {
        type: 'ticket',
        id: ticketId
      });
    } else if (!isManager(actor.user)) {
      throw new AppError('forbidden', 'Agents refund or cancel orders from a ticket of the customer');
    }
    if (!ORDER_ACTIONS_FROM[action].includes(order.status)) {
      throw new AppError(
        'unprocessable',
        `A ${order.status} order cannot be ${action === 'refund' ? 'refunded' : 'cancelled'}`
      );
    }
    const next = action === 'refund' ? 'refunded' : 'cancelled';
    await t.query(`UPDATE orders SET status = $2::order_status WHERE id = $1`, [orderId, next]);
    const pointsNote = await reverseLoyalty(t, orderId);
    if (ticket) {
      await t.query(`INSERT INTO ticket_messages (ticket_id, author_type, body) VALUES ($1, 'system', $2)`, [
        ticket.id,
        `${actor.user.name} ${next} order #${orderId} (${money(order.total)})${pointsNote}`
      ]);
    }
  });
  const [row] = await db.query<Record<string, unknown>>(`SELECT * FROM orders WHERE id = $1`, [orderId]);
  return presentOrder(camelKeys(row));
}

/** Reverses the order's loyalty entries (loyalty_reverse_order) in `t`; the ticket note's points part. */
async function reverseLoyalty(t: Db, orderId: number): Promise<string> {
  const [{ net }] = await t.query<{ net: number }>(`SELECT loyalty_reverse_order($1) AS net`, [orderId]);
  return net === 0 ? '' : `, ${net > 0 ? '+' : '−'}${Math.abs(net)} points`;
}
