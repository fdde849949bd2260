import type { z } from 'zod';
import type { TicketStatus } from '#shared/enums.js';
import {
  TICKET_TRANSITIONS,
  type MessageWithAuthor,
  type QueueTicket,
  type ReplyBody,
  type TicketPatch
} from '#shared/schemas/tickets.js';
import type { Actor } from '../../auth/actor.js';
import { authorizeObject } from '../../auth/authorize.js';
import { canWorkTicket } from '../../auth/policies.js';
import type { Db, Row } from '../../data/db.js';
import { AppError, notFound } from '../../errors.js';
import { presentAuthoredMessage } from './detail.js';
import { queueRow } from './queue.js';
import { Params } from '../sql.js';

const STATUS_LABEL: Record<TicketStatus, string> = {
  new: 'New',
  open: 'Open',
  pending: 'Pending',
  resolved: 'Resolved',
  closed: 'Closed'
};

/**
 * Locks the ticket row for the rest of the transaction `t`, after checking the actor may work it
 * (a denial is audited through `db`, outside the transaction it stops).
 */
async function lockTicket(db: Db, t: Db, actor: Actor, id: number): Promise<Row> {
  const [row] = await t.query<Row>(`SELECT * FROM tickets WHERE id = $1 FOR UPDATE`, [id]);
  if (!row) throw notFound('Ticket');
  await authorizeObject(db, canWorkTicket(actor.user, { teamId: Number(row.team_id) }), actor, {
    type: 'ticket',
    id
  });
  return row;
}

async function systemMessage(t: Db, ticketId: number, body: string) {
  await t.query(`INSERT INTO ticket_messages (ticket_id, author_type, body) VALUES ($1, 'system', $2)`, [
    ticketId,
    body
  ]);
}

/** Timestamp columns that follow a status move (reopening clears them). */
function statusColumns(to: TicketStatus): string[] {
  if (to === 'resolved') return [`resolved_at = coalesce(resolved_at, now())`, `closed_at = NULL`];
  if (to === 'closed') return [`resolved_at = coalesce(resolved_at, now())`, `closed_at = now()`];
  return [`resolved_at = NULL`, `closed_at = NULL`];
}

function checkTransition(from: TicketStatus, to: TicketStatus) {
  if (from !== to && !TICKET_TRANSITIONS[from].includes(to)) {
    throw new AppError(
      'unprocessable',
      `A ${STATUS_LABEL[from].toLowerCase()} ticket cannot move to ${STATUS_LABEL[to].toLowerCase()}`,
      {
        allowed: TICKET_TRANSITIONS[from]
      }
    );
  }
}

/**
 * Applies a change made against `patch.version`. A stale version is refused with the current
 * ticket, so nothing someone else saved in between is overwritten.
 */
export async function patchTicket(
  db: Db,
  actor: Actor,
  { id, patch }: { id: number; patch: z.output<typeof TicketPatch> }
): Promise<QueueTicket> {
  await db.transaction(async (t) => {
    const row = await lockTicket(db, t, actor, id);
    if (Number(row.version) !== patch.version) {
      throw new AppError(
        'stale_version',
        'Someone changed this ticket a moment ago; your change was not saved',
        {
          ticket: await queueRow(t, id)
        }
      );
    }
    const sets: string[] = [];
    const params = new Params([id]);
    const set = (column: string, value: unknown, cast = '') =>
      sets.push(`${column} = ${params.p(value)}${cast}`);
    const notes: string[] = [];
    const who = actor.user.name;

    if (patch.status && patch.status !== row.status) {
      checkTransition(row.status as TicketStatus, patch.status);
      set('status', patch.status, '::ticket_status');
      sets.push(...statusColumns(patch.status));
      notes.push(
        `${who} ${['resolved', 'closed'].includes(row.status as string) && patch.status === 'open' ? 'reopened the ticket' : `set the status to ${STATUS_LABEL[patch.status]}`}`
      );
    }
    if (patch.priority && patch.priority !== row.priority) {
      set('priority', patch.priority, '::ticket_priority');
      notes.push(`${who} changed the priority to ${patch.priority}`);
    }
    if (patch.assigneeId !== undefined && patch.assigneeId !== row.assignee_id) {
      if (patch.assigneeId !== null) {
        const [agent] = await t.query<{ name: string; team_id: number | null; role: string }>(
          `SELECT name, team_id, role FROM users WHERE id = $1 AND active`,
          [patch.assigneeId]
        );
        if (!agent || (agent.role === 'agent' && agent.team_id !== Number(row.team_id))) {
          throw new AppError(
            'unprocessable',
            'Tickets are assigned to an active member of the ticket’s team'
          );
        }
        notes.push(
          patch.assigneeId === actor.user.id
            ? `${who} took the ticket`
            : `${who} assigned the ticket to ${agent.name}`
        );
      } else {
        notes.push(`${who} unassigned the ticket`);
      }
      set('assignee_id', patch.assigneeId);
    }
    if (patch.tags) set('tags', [...new Set(patch.tags)], '::text[]');
    if (patch.orderId !== undefined && patch.orderId !== row.order_id) {
      if (patch.orderId !== null) {
        const [order] = await t.query<{ id: number }>(
          `SELECT id FROM orders WHERE id = $1 AND customer_id = $2`,
          [patch.orderId, row.customer_id]
        );
        if (!order) throw new AppError('unprocessable', 'The order must be one of this customer’s orders');
        notes.push(`${who} linked order #${patch.orderId}`);
      }
      set('order_id', patch.orderId);
    }
    if (sets.length === 0) return;
    await t.query(
      `UPDATE tickets SET ${sets.join(', ')}, version = version + 1 WHERE id = $1`,
      params.values
    );
    for (const note of notes) await systemMessage(t, id, note);
  });
  return (await queueRow(db, id))!;
}

/** Takes an unassigned ticket. Of two agents claiming at once, exactly one wins; the other is told who. */
export async function claimTicket(db: Db, actor: Actor, id: number): Promise<QueueTicket> {
  await db.transaction(async (t) => {
    const row = await lockTicket(db, t, actor, id);
    if (row.assignee_id === actor.user.id) return;
    if (row.assignee_id !== null) {
      const [holder] = await t.query<{ id: number; name: string }>(
        `SELECT id, name FROM users WHERE id = $1`,
        [row.assignee_id]
      );
      throw new AppError('conflict', `Already assigned to ${holder?.name ?? 'someone else'}`, {
        assignee: holder ?? null
      });
    }
    await t.query(
      `UPDATE tickets SET assignee_id = $2, status = CASE WHEN status = 'new' THEN 'open'::ticket_status ELSE status END,
              version = version + 1 WHERE id = $1`,
      [id, actor.user.id]
    );
    await systemMessage(t, id, `${actor.user.name} took the ticket`);
  });
  return (await queueRow(db, id))!;
}

/**
 * A reply (or an internal note). The first public reply stops the first-response clock; a reply
 * may move the ticket in the same step (reply and set pending, reply and resolve).
 */
export async function addAgentMessage(
  db: Db,
  actor: Actor,
  { id, reply: input }: { id: number; reply: z.output<typeof ReplyBody> }
): Promise<{ message: MessageWithAuthor; ticket: QueueTicket }> {
  const message = await db.transaction(async (t) => {
    const row = await lockTicket(db, t, actor, id);
    const from = row.status as TicketStatus;
    const to: TicketStatus = input.status ?? (!input.internal && from === 'new' ? 'open' : from);
    checkTransition(from, to);
    const [inserted] = await t.query<Row>(
      `INSERT INTO ticket_messages (ticket_id, author_type, author_user_id, body, internal) VALUES ($1, 'agent', $2, $3, $4) RETURNING *`,
      [id, actor.user.id, input.body, input.internal]
    );
    const sets = [`last_message_at = now()`, `version = version + 1`];
    if (!input.internal) sets.push(`first_responded_at = coalesce(first_responded_at, now())`);
    if (to !== from) sets.push(`status = '${to}'::ticket_status`, ...statusColumns(to));
    await t.query(`UPDATE tickets SET ${sets.join(', ')} WHERE id = $1`, [id]);
    return inserted;
  });
  return {
    message: presentAuthoredMessage({ ...message, author_name: actor.user.name }),
    ticket: (await queueRow(db, id))!
  };
}

/** A satisfaction score, typically from a survey tool some time after resolution. */
export async function recordCsat(db: Db, { id, score }: { id: number; score: number }): Promise<QueueTicket> {
  const rows = await db.query(
    `UPDATE tickets SET csat_score = $2, csat_at = now(), version = version + 1
      WHERE id = $1 AND status IN ('resolved', 'closed') RETURNING id`,
    [id, score]
  );
  if (rows.length === 0) {
    const [exists] = await db.query(`SELECT 1 FROM tickets WHERE id = $1`, [id]);
    if (!exists) throw notFound('Ticket');
    throw new AppError('unprocessable', 'Satisfaction is rated once a ticket is resolved');
  }
  return (await queueRow(db, id))!;
}
