import { AT_RISK_FLOOR_MINUTES, AT_RISK_SHARE } from '#shared/rules/tickets.js';
import type { User } from 'lucia';
import type { z } from 'zod';
import type { QueueCounts, QueuePage, QueueQuery, QueueTicket } from '#shared/schemas/tickets.js';
import type { Actor } from '../../auth/actor.js';
import { isManager } from '../../auth/policies.js';
import type { Db, Row } from '../../data/db.js';
import { AppError } from '../../errors.js';
import { camelKeys } from '../../presenters/camel-keys.js';
import { presentTicket } from '../../presenters/live-shapes.js';
import { OPEN_WORK, Params } from '../sql.js';

type Query = z.output<typeof QueueQuery>;

const OPEN = `t.${OPEN_WORK}`;
const DUE = `ticket_sla_due(t.status, t.first_responded_at, t.first_response_due_at, t.resolution_due_at)`;

/** The columns and joins every queue row needs; `WHERE`/`ORDER` are added per use. */
export const QUEUE_ROW_SQL = `
  SELECT t.*, ${DUE}::text AS sla_due,
         c.first_name AS c_first_name, c.last_name AS c_last_name, c.email AS c_email,
         u.name AS assignee_name,
         lm.body AS lm_body, lm.author_type AS lm_author_type, lm.internal AS lm_internal, lm.created_at AS lm_created_at
    FROM tickets t
    JOIN customers c ON c.id = t.customer_id
    LEFT JOIN users u ON u.id = t.assignee_id
    LEFT JOIN LATERAL (
      SELECT m.body, m.author_type, m.internal, m.created_at FROM ticket_messages m
       WHERE m.ticket_id = t.id AND m.author_type <> 'system' ORDER BY m.created_at DESC, m.id DESC LIMIT 1
    ) lm ON true`;

export function presentQueueRow(row: Row): QueueTicket {
  const body = row.lm_body as string | null;
  return {
    ...presentTicket(camelKeys(row)),
    customer: {
      id: Number(row.customer_id),
      name: `${row.c_first_name} ${row.c_last_name}`.trim(),
      email: String(row.c_email)
    },
    assignee: row.assignee_id ? { id: Number(row.assignee_id), name: String(row.assignee_name) } : null,
    lastMessage: body
      ? {
          preview: body.replace(/\s+/g, ' ').slice(0, 140),
          authorType: row.lm_author_type as 'customer' | 'agent' | 'system',
          internal: Boolean(row.lm_internal),
          at: new Date(row.lm_created_at as string).toISOString()
        }
      : null
  };
}

/** Where a queue page ends: the last row's SLA due time and id (base64url JSON, opaque to clients). */
export interface Cursor {
  due: string | null;
  id: number;
}
export const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify([c.due, c.id])).toString('base64url');
/** The cursor `raw` carries; anything this API did not hand out is a 400 (validation_failed). */
export function decodeCursor(raw: string): Cursor {
  try {
    const [due, id] = JSON.parse(Buffer.from(raw, 'base64url').toString()) as [string | null, number];
    const dueOk = due === null || (typeof due === 'string' && !Number.isNaN(Date.parse(due)));
    if (dueOk && Number.isSafeInteger(id)) return { due, id };
  } catch {
    /* fall through */
  }
  throw new AppError('validation_failed', 'cursor is not one this API handed out');
}

/** SQL for the SLA states, built from the constants `slaState` uses in the shared rules. */
const SHARE = `greatest((${DUE} - t.created_at) * ${AT_RISK_SHARE}, interval '0')`;
const FLOOR = `interval '${AT_RISK_FLOOR_MINUTES} minutes'`;
const SLA_CONDITION: Record<string, string> = {
  breached: `${DUE} <= now()`,
  at_risk: `${DUE} > now() AND (${DUE} - now() < ${SHARE} OR ${DUE} - now() < ${FLOOR})`,
  ok: `(${DUE} IS NULL OR (${DUE} - now() >= ${SHARE} AND ${DUE} - now() >= ${FLOOR}))`
};

/** One page of a queue view, in SLA order, with the counts of every view. */
export async function listQueue(db: Db, actor: Actor, q: Query): Promise<QueuePage> {
  const { user } = actor;
  const manager = isManager(user);
  if (q.view === 'all' && !manager) throw new AppError('forbidden', 'The all-teams view is for managers');
  const where: string[] = [];
  const params = new Params();

  // What this user may see at all.
  if (!manager) where.push(`t.team_id = ${params.p(user.teamId ?? -1)}`);
  // The view.
  if (q.view === 'mine') where.push(`t.assignee_id = ${params.p(user.id)}`);
  if (q.view === 'unassigned') where.push(`t.assignee_id IS NULL`);
  if (q.view === 'team' && user.teamId !== null) where.push(`t.team_id = ${params.p(user.teamId)}`);
  // Filters.
  where.push(q.status?.length ? `t.status = ANY(${params.p(q.status)}::ticket_status[])` : OPEN);
  if (q.priority?.length) where.push(`t.priority = ANY(${params.p(q.priority)}::ticket_priority[])`);
  if (q.channel?.length) where.push(`t.channel = ANY(${params.p(q.channel)}::ticket_channel[])`);
  if (q.tag) where.push(`${params.p(q.tag.toLowerCase())} = ANY(t.tags)`);
  if (q.sla?.length) where.push(`(${q.sla.map((s) => SLA_CONDITION[s]).join(' OR ')})`);
  if (q.q) {
    const number = /^#?(\d{1,9})$/.exec(q.q);
    if (number) where.push(`t.id = ${params.p(Number(number[1]))}`);
    else {
      const text = params.p(q.q);
      const like = params.p(`%${q.q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`);
      where.push(
        `(t.search @@ plainto_tsquery('simple', ${text}) OR c.email ILIKE ${like} OR (c.first_name || ' ' || c.last_name) ILIKE ${like})`
      );
    }
  }
  if (q.cursor) {
    const cursor = decodeCursor(q.cursor);
    where.push(
      cursor.due === null
        ? `(${DUE} IS NULL AND t.id > ${params.p(cursor.id)})`
        : `(${DUE} > ${params.p(cursor.due)}::timestamptz OR (${DUE} = ${params.p(cursor.due)}::timestamptz AND t.id > ${params.p(cursor.id)}) OR ${DUE} IS NULL)`
    );
  }

  const rows = await db.query<Row>(
    `${QUEUE_ROW_SQL} WHERE ${where.join(' AND ')} ORDER BY ${DUE} ASC NULLS LAST, t.id ASC LIMIT ${params.p(q.limit + 1)}`,
    params.values
  );
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  return {
    tickets: page.map(presentQueueRow),
    counts: await queueCounts(db, user),
    nextCursor:
      rows.length > q.limit && last
        ? encodeCursor({ due: (last.sla_due as string | null) ?? null, id: Number(last.id) })
        : null
  };
}

export async function queueCounts(db: Db, user: User): Promise<QueueCounts> {
  const manager = isManager(user);
  const [row] = await db.query<{ mine: number; unassigned: number; team: number; all: number }>(
    `SELECT count(*) FILTER (WHERE t.assignee_id = $1)::int AS mine,
            count(*) FILTER (WHERE t.assignee_id IS NULL)::int AS unassigned,
            count(*) FILTER (WHERE $2::int IS NULL OR t.team_id = $2)::int AS team,
            count(*)::int AS all
       FROM tickets t
      WHERE ${OPEN} AND ($3 OR t.team_id = $2)`,
    [user.id, user.teamId, manager]
  );
  return { mine: row.mine, unassigned: row.unassigned, team: row.team, all: manager ? row.all : null };
}

/** One ticket's queue row as the database returns it, or undefined. */
export async function findQueueRow(db: Db, ticketId: number): Promise<Row | undefined> {
  const [row] = await db.query<Row>(`${QUEUE_ROW_SQL} WHERE t.id = $1`, [ticketId]);
  return row;
}

/** One ticket as a queue row (after an action, or for a live event about a ticket not yet on screen). */
export async function queueRow(db: Db, ticketId: number): Promise<QueueTicket | null> {
  const row = await findQueueRow(db, ticketId);
  return row ? presentQueueRow(row) : null;
}
