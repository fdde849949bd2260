import type { z } from 'zod';
import type { InboundMessage, MessageWithAuthor, QueueTicket } from '#shared/schemas/tickets.js';
import type { Db } from '../../data/db.js';
import { AppError } from '../../errors.js';
import { presentAuthoredMessage } from './detail.js';
import { queueRow } from './queue.js';

/**
 * A message from an integration (email, chat widget, social inbox). Finds or creates the customer,
 * then adds to the open ticket it names or opens a new one in the chosen (or first) team. Routing,
 * SLA and VIP rules are the database's, exactly as for a ticket inserted any other way.
 */
export async function receiveInbound(
  db: Db,
  input: z.output<typeof InboundMessage>
): Promise<{ ticket: QueueTicket; message: MessageWithAuthor; created: boolean }> {
  const result = await db.transaction(async (t) => {
    const [first, ...rest] = (input.name ?? input.email.split('@')[0]).split(/\s+/);
    const [customer] = await t.query<{ id: number }>(
      `INSERT INTO customers (email, first_name, last_name, preferred_channels)
       VALUES ($1, $2, $3, '{email}')
       ON CONFLICT ((lower(email))) DO UPDATE SET email = customers.email
       RETURNING id`,
      [input.email, first, rest.join(' ')]
    );

    let ticketId: number | null = null;
    if (input.ticketId) {
      const [open] = await t.query<{ id: number; status: string }>(
        `SELECT id, status FROM tickets WHERE id = $1 AND customer_id = $2 FOR UPDATE`,
        [input.ticketId, customer.id]
      );
      if (!open) throw new AppError('unprocessable', 'That ticket does not belong to this customer');
      if (open.status !== 'closed') ticketId = open.id;
    }
    const created = ticketId === null;
    if (ticketId === null) {
      const [team] = await t.query<{ id: number }>(
        input.teamId ? `SELECT id FROM teams WHERE id = $1` : `SELECT id FROM teams ORDER BY id LIMIT 1`,
        input.teamId ? [input.teamId] : []
      );
      if (!team)
        throw new AppError(
          'unprocessable',
          input.teamId ? 'No such team' : 'Create a team before receiving tickets'
        );
      const [order] = input.orderExternalId
        ? await t.query<{ id: number }>(`SELECT id FROM orders WHERE external_id = $1 AND customer_id = $2`, [
            input.orderExternalId,
            customer.id
          ])
        : [];
      const [ticket] = await t.query<{ id: number }>(
        `INSERT INTO tickets (customer_id, team_id, order_id, subject, channel) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [customer.id, team.id, order?.id ?? null, input.subject, input.channel]
      );
      ticketId = ticket.id;
    } else {
      // The customer wrote back: a ticket waiting on them, or resolved, needs an agent again.
      await t.query(
        `UPDATE tickets SET status = CASE WHEN status IN ('pending', 'resolved') THEN 'open'::ticket_status ELSE status END,
                resolved_at = CASE WHEN status = 'resolved' THEN NULL ELSE resolved_at END,
                last_message_at = now(), version = version + 1
          WHERE id = $1`,
        [ticketId]
      );
    }
    const [message] = await t.query<Record<string, unknown>>(
      `INSERT INTO ticket_messages (ticket_id, author_type, body) VALUES ($1, 'customer', $2) RETURNING *`,
      [ticketId, input.body]
    );
    return { ticketId, message, created };
  });
  return {
    ticket: (await queueRow(db, result.ticketId))!,
    message: presentAuthoredMessage({ ...result.message, author_name: null }),
    created: result.created
  };
}
