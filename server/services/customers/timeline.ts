import {
  TIMELINE_KINDS,
  type TimelineItem,
  type TimelineKind,
  type TimelinePage
} from '#shared/schemas/customer360.js';
import { money } from '#shared/rules/money.js';
import type { Db } from '../../data/db.js';
import { AppError } from '../../errors.js';
import type { Actor } from '../../http/env.js';
import { isManager } from '../../auth/policies.js';
import { customerRow } from './profile.js';

/**
 * Where each kind of timeline item comes from: a SELECT of `at`, `id` (the source row's id, unique
 * within the kind), `actor_id` and `data` (jsonb, the item's own fields), for the customer `$1`,
 * older than the cursor (`$2` at, `$3` kind, `$4` id), newest first, at most `$5` rows. Tickets
 * are limited to those the viewer may open (`$6`: all teams, else `$7` the viewer's team).
 * A new kind (the merge helper's `merge`) is one more entry here.
 */
export const TIMELINE_SOURCES: Partial<Record<TimelineKind, string>> = {
  order_placed: `
    SELECT o.order_date AS at, o.id::bigint AS id, NULL::int AS actor_id,
           jsonb_build_object('orderId', o.id, 'total', o.total, 'currency', o.currency, 'channel', o.channel,
                              'externalId', o.external_id) AS data
      FROM orders o WHERE o.customer_id = $1 AND o.order_date <= $2::timestamptz
       AND (o.order_date, 'order_placed'::text, o.id::bigint) < ($2::timestamptz, $3::text, $4::bigint)
     ORDER BY o.order_date DESC, o.id DESC LIMIT $5`,
  order_status: `
    SELECT s.changed_at AS at, s.id, s.actor_user_id AS actor_id,
           jsonb_build_object('orderId', s.order_id, 'from', s.from_status, 'to', s.to_status, 'externalId', o.external_id,
                              'total', o.total, 'currency', o.currency) AS data
      FROM order_status_changes s JOIN orders o ON o.id = s.order_id
     WHERE s.customer_id = $1 AND s.changed_at <= $2::timestamptz
       AND (s.changed_at, 'order_status'::text, s.id) < ($2::timestamptz, $3::text, $4::bigint)
     ORDER BY s.changed_at DESC, s.id DESC LIMIT $5`,
  ticket_opened: `
    SELECT t.created_at AS at, t.id::bigint AS id, NULL::int AS actor_id,
           jsonb_build_object('ticketId', t.id, 'subject', t.subject, 'status', t.status) AS data
      FROM tickets t WHERE t.customer_id = $1 AND ($6::boolean OR t.team_id = $7::int) AND t.created_at <= $2::timestamptz
       AND (t.created_at, 'ticket_opened'::text, t.id::bigint) < ($2::timestamptz, $3::text, $4::bigint)
     ORDER BY t.created_at DESC, t.id DESC LIMIT $5`,
  ticket_message: `
    SELECT m.created_at AS at, m.id::bigint AS id, m.author_user_id AS actor_id,
           jsonb_build_object('ticketId', t.id, 'messageId', m.id, 'subject', t.subject, 'authorType', m.author_type,
                              'internal', m.internal, 'body', left(m.body, 600)) AS data
      FROM tickets t JOIN ticket_messages m ON m.ticket_id = t.id
     WHERE t.customer_id = $1 AND ($6::boolean OR t.team_id = $7::int) AND m.created_at <= $2::timestamptz
       AND (m.created_at, 'ticket_message'::text, m.id::bigint) < ($2::timestamptz, $3::text, $4::bigint)
     ORDER BY m.created_at DESC, m.id DESC LIMIT $5`,
  csat: `
    SELECT t.csat_at AS at, t.id::bigint AS id, NULL::int AS actor_id,
           jsonb_build_object('ticketId', t.id, 'subject', t.subject, 'score', t.csat_score) AS data
      FROM tickets t WHERE t.customer_id = $1 AND ($6::boolean OR t.team_id = $7::int) AND t.csat_at IS NOT NULL AND t.csat_at <= $2::timestamptz
       AND (t.csat_at, 'csat'::text, t.id::bigint) < ($2::timestamptz, $3::text, $4::bigint)
     ORDER BY t.csat_at DESC, t.id DESC LIMIT $5`,
  loyalty: `
    SELECT l.created_at AS at, l.id, NULL::int AS actor_id,
           jsonb_build_object('entryId', l.id, 'entryKind', l.kind, 'points', l.points, 'reason', l.reason,
                              'orderId', l.order_id, 'goodwillTicketId', l.ticket_id, 'bonus', l.bonus) AS data
      FROM loyalty_accounts a JOIN loyalty_ledger l ON l.account_id = a.id
     WHERE a.customer_id = $1 AND l.created_at <= $2::timestamptz
       AND (l.created_at, 'loyalty'::text, l.id) < ($2::timestamptz, $3::text, $4::bigint)
     ORDER BY l.created_at DESC, l.id DESC LIMIT $5`,
  segment: `
    SELECT c.at, c.id, NULL::int AS actor_id,
           jsonb_build_object('segmentId', c.segment_id, 'segmentName', c.segment_name, 'change', c.change) AS data
      FROM segment_membership_changes c WHERE c.customer_id = $1 AND c.at <= $2::timestamptz
       AND (c.at, 'segment'::text, c.id) < ($2::timestamptz, $3::text, $4::bigint)
     ORDER BY c.at DESC, c.id DESC LIMIT $5`,
  tier: `
    SELECT c.changed_at AS at, c.id, NULL::int AS actor_id,
           jsonb_build_object('from', c.from_tier, 'to', c.to_tier) AS data
      FROM loyalty_accounts a JOIN loyalty_tier_changes c ON c.account_id = a.id
     WHERE a.customer_id = $1 AND c.changed_at <= $2::timestamptz
       AND (c.changed_at, 'tier'::text, c.id) < ($2::timestamptz, $3::text, $4::bigint)
     ORDER BY c.changed_at DESC, c.id DESC LIMIT $5`,
  profile: `
    SELECT c.at, c.id, c.actor_user_id AS actor_id,
           jsonb_build_object('field', c.field, 'old', c.old, 'new', c.new) AS data
      FROM customer_changes c WHERE c.customer_id = $1 AND c.at <= $2::timestamptz
       AND (c.at, 'profile'::text, c.id) < ($2::timestamptz, $3::text, $4::bigint)
     ORDER BY c.at DESC, c.id DESC LIMIT $5`,
  consent: `
    SELECT c.at, c.id, c.actor_user_id AS actor_id,
           jsonb_build_object('channel', c.channel, 'granted', c.granted, 'source', c.source) AS data
      FROM customer_consents c WHERE c.customer_id = $1 AND c.at <= $2::timestamptz
       AND (c.at, 'consent'::text, c.id) < ($2::timestamptz, $3::text, $4::bigint)
     ORDER BY c.at DESC, c.id DESC LIMIT $5`,
  note: `
    SELECT n.created_at AS at, n.id, n.author_id AS actor_id,
           jsonb_build_object('noteId', n.id, 'body', left(n.body, 600)) AS data
      FROM customer_notes n WHERE n.customer_id = $1 AND n.created_at <= $2::timestamptz
       AND (n.created_at, 'note'::text, n.id) < ($2::timestamptz, $3::text, $4::bigint)
     ORDER BY n.created_at DESC, n.id DESC LIMIT $5`,
  merge: `
    SELECT m.merged_at AS at, m.id, m.merged_by AS actor_id,
           jsonb_build_object(
             'otherCustomerId', CASE WHEN m.survivor_id = $1 THEN m.merged_id ELSE m.survivor_id END,
             'direction', CASE WHEN m.survivor_id = $1 THEN 'absorbed' ELSE 'merged_into' END,
             'summary', format('%s %s (#%s) %s: %s orders, %s tickets, %s reviews, %s loyalty points moved',
                               m.snapshot -> 'merged' ->> 'first_name', m.snapshot -> 'merged' ->> 'last_name', m.merged_id,
                               CASE WHEN m.survivor_id = $1 THEN 'merged into this customer' ELSE format('merged into customer #%s', m.survivor_id) END,
                               m.moved ->> 'orders', m.moved ->> 'tickets', m.moved ->> 'reviews', m.moved ->> 'points')) AS data
      FROM customer_merges m WHERE (m.survivor_id = $1 OR m.merged_id = $1) AND m.merged_at <= $2::timestamptz
       AND (m.merged_at, 'merge'::text, m.id) < ($2::timestamptz, $3::text, $4::bigint)
     ORDER BY m.merged_at DESC, m.id DESC LIMIT $5`
};

interface Cursor {
  at: string;
  kind: string;
  id: string;
}

const CURSOR_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** The opaque `next` token: the last item's instant (to the microsecond), kind and id. */
export function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.at}|${c.kind}|${c.id}`).toString('base64url');
}

export function decodeCursor(token: string): Cursor {
  const bad = () =>
    new AppError('validation_failed', 'Invalid query: before is not a cursor this timeline gave', [
      { path: 'before', message: 'is not a cursor this timeline gave' }
    ]);
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw bad();
  const [at, kind, id, ...rest] = Buffer.from(token, 'base64url').toString('utf8').split('|');
  if (
    rest.length ||
    !CURSOR_AT.test(at ?? '') ||
    !(TIMELINE_KINDS as readonly string[]).includes(kind) ||
    !/^\d{1,18}$/.test(id ?? '')
  )
    throw bad();
  if (Number.isNaN(Date.parse(at))) throw bad();
  return { at, kind, id };
}

type Row = {
  at: Date;
  at_text: string;
  kind: TimelineKind;
  id: string;
  actor_id: number | null;
  actor_name: string | null;
  data: Record<string, unknown>;
};

/**
 * The customer's history, newest first, one page: every kind asked for merged by time (ties by
 * kind and id, so pages never overlap or skip). Ticket items only of tickets the viewer may open:
 * an agent sees their own team's conversations, internal notes included; a manager every team's.
 */
export async function customerTimeline(
  db: Db,
  actor: Actor,
  customerId: number,
  q: { kinds?: TimelineKind[]; before?: string; limit: number }
): Promise<TimelinePage> {
  await customerRow(db, actor.user, customerId);
  const cursor = q.before ? decodeCursor(q.before) : { at: 'infinity', kind: '~', id: '0' };
  const kinds = (q.kinds ?? [...TIMELINE_KINDS]).filter((k) => TIMELINE_SOURCES[k]);
  if (kinds.length === 0) return { items: [], next: null };
  const union = kinds
    .map((k) => `(SELECT '${k}'::text AS kind, s.* FROM (${TIMELINE_SOURCES[k]}) s)`)
    .join(' UNION ALL ');
  const rows = await db.query<Row>(
    `SELECT i.kind, i.at, to_char(i.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at_text,
            i.id::text AS id, i.actor_id, u.name AS actor_name, i.data
       FROM (${union}) i LEFT JOIN users u ON u.id = i.actor_id
            -- Every parameter is named even when no ticket kind is asked for.
            CROSS JOIN (SELECT $6::boolean AS all_teams, $7::int AS team) viewer
      ORDER BY i.at DESC, i.kind DESC, i.id DESC LIMIT $5`,
    [
      customerId,
      cursor.at,
      cursor.kind,
      cursor.id,
      q.limit + 1,
      isManager(actor.user),
      actor.user.teamId ?? -1
    ]
  );
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  return {
    items: page.map(presentItem),
    next:
      rows.length > q.limit && last ? encodeCursor({ at: last.at_text, kind: last.kind, id: last.id }) : null
  };
}

function presentItem(r: Row): TimelineItem {
  const d = r.data;
  const base = {
    key: `${r.kind}:${r.id}`,
    at: new Date(r.at).toISOString(),
    actor: r.actor_id == null ? null : { id: r.actor_id, name: r.actor_name ?? 'Someone' }
  };
  switch (r.kind) {
    case 'order_placed':
      return { ...base, kind: r.kind, ...(d as object), total: money(d.total) } as TimelineItem;
    case 'order_status':
      return { ...base, kind: r.kind, ...(d as object), total: money(d.total) } as TimelineItem;
    default:
      return { ...base, kind: r.kind, ...(d as object) } as TimelineItem;
  }
}
