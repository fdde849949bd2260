import type { SegmentMembershipChange } from '$shared/schemas/segments.js';
import type { Change, LoyaltyChange } from '$shared/events.js';
import type {
  ConsentRecord,
  NoteRecord,
  OrderStatusChange,
  Person,
  ProfileChange,
  TierChange,
  TimelineItem,
  TimelineKind
} from '$shared/schemas/customer360.js';
import { TIMELINE_GROUPS } from '$shared/schemas/customer360.js';
import type { OrderSummary, TicketMessage, TicketSummary } from '$shared/schemas/live.js';

// Live events as the timeline items a reload would show (the same keys, so a replayed event or a
// page read after it never shows an item twice), and the order the server pages them in.

export type TimelineGroup = keyof typeof TIMELINE_GROUPS;
export const GROUP_LABELS: Record<TimelineGroup, string> = {
  orders: 'Orders',
  support: 'Support',
  loyalty: 'Loyalty',
  profile: 'Profile',
  notes: 'Notes'
};

/** The kinds a filter shows: all of them when no group is chosen. */
export function kindsOf(group: TimelineGroup | null): readonly TimelineKind[] | undefined {
  return group ? TIMELINE_GROUPS[group] : undefined;
}

const idOf = (key: string) => Number(key.slice(key.indexOf(':') + 1));

/** Newest first; ties by kind then id, descending, as the server pages them. */
export function compareItems(a: TimelineItem, b: TimelineItem): number {
  return (
    Date.parse(b.at) - Date.parse(a.at) ||
    (a.kind === b.kind ? 0 : a.kind < b.kind ? 1 : -1) ||
    idOf(b.key) - idOf(a.key)
  );
}

/** `items` with `incoming` added (an item already shown is replaced), in timeline order. */
export function mergeItems(items: TimelineItem[], incoming: TimelineItem[]): TimelineItem[] {
  const byKey = new Map(items.map((i) => [i.key, i]));
  for (const item of incoming) byKey.set(item.key, item);
  return [...byKey.values()].sort(compareItems);
}

/** Who a user id is, from the names the screen knows. */
export type NameOf = (id: number | null) => Person | null;

export const fromOrderCreated = (o: OrderSummary): TimelineItem => ({
  key: `order_placed:${o.id}`,
  at: o.orderDate,
  actor: null,
  kind: 'order_placed',
  orderId: o.id,
  total: o.total,
  currency: o.currency,
  channel: o.channel,
  externalId: o.externalId
});

export const fromOrderStatus = (
  e: Change<OrderStatusChange>,
  order: Pick<OrderSummary, 'externalId' | 'total' | 'currency'> | undefined,
  nameOf: NameOf
): TimelineItem => ({
  key: `order_status:${e.data.id}`,
  at: e.data.changedAt,
  actor: nameOf(e.data.actorUserId),
  kind: 'order_status',
  orderId: e.data.orderId,
  from: e.data.from,
  to: e.data.to,
  externalId: order?.externalId ?? null,
  total: order?.total ?? '0.00',
  currency: order?.currency ?? 'USD'
});

export const fromTicketCreated = (t: TicketSummary): TimelineItem => ({
  key: `ticket_opened:${t.id}`,
  at: t.createdAt,
  actor: null,
  kind: 'ticket_opened',
  ticketId: t.id,
  subject: t.subject,
  status: t.status
});

export const fromMessage = (m: TicketMessage, subject: string, nameOf: NameOf): TimelineItem => ({
  key: `ticket_message:${m.id}`,
  at: m.createdAt,
  actor: nameOf(m.authorUserId),
  kind: 'ticket_message',
  ticketId: m.ticketId,
  messageId: m.id,
  subject,
  authorType: m.authorType,
  internal: m.internal,
  body: m.body.slice(0, 600)
});

/** A CSAT score given (a ticket update whose score changed to a value). */
export function fromCsat(e: Change<TicketSummary>): TimelineItem | null {
  if (!e.old || !('csatScore' in e.old) || e.data.csatScore === null) return null;
  return {
    key: `csat:${e.data.id}`,
    at: e.at,
    actor: null,
    kind: 'csat',
    ticketId: e.data.id,
    subject: e.data.subject,
    score: e.data.csatScore
  };
}

export function fromLoyalty(e: LoyaltyChange): TimelineItem | null {
  const entry = e.entry;
  if (!entry) return null;
  return {
    key: `loyalty:${entry.id}`,
    at: entry.createdAt,
    actor: null,
    kind: 'loyalty',
    entryId: entry.id,
    entryKind: entry.kind,
    points: entry.points,
    reason: entry.reason,
    orderId: entry.orderId,
    goodwillTicketId: entry.ticketId ?? null,
    bonus: entry.bonus ?? null
  };
}

export const fromSegment = (e: Change<SegmentMembershipChange>): TimelineItem => ({
  key: `segment:${e.data.id}`,
  at: e.data.at,
  actor: null,
  kind: 'segment',
  segmentId: e.data.segmentId,
  segmentName: e.data.segmentName,
  change: e.data.change
});

export const fromTier = (e: Change<TierChange>): TimelineItem => ({
  key: `tier:${e.data.id}`,
  at: e.data.changedAt,
  actor: null,
  kind: 'tier',
  from: e.data.from,
  to: e.data.to
});

export const fromProfileChange = (e: Change<ProfileChange>, nameOf: NameOf): TimelineItem => ({
  key: `profile:${e.data.id}`,
  at: e.data.at,
  actor: nameOf(e.data.actorUserId),
  kind: 'profile',
  field: e.data.field,
  old: e.data.old,
  new: e.data.new
});

export const fromConsent = (e: Change<ConsentRecord>, nameOf: NameOf): TimelineItem => ({
  key: `consent:${e.data.id}`,
  at: e.data.at,
  actor: nameOf(e.data.actorUserId),
  kind: 'consent',
  channel: e.data.channel,
  granted: e.data.granted,
  source: e.data.source
});

export const fromNote = (e: Change<NoteRecord>, nameOf: NameOf): TimelineItem => ({
  key: `note:${e.data.id}`,
  at: e.data.createdAt,
  actor: nameOf(e.data.authorId),
  kind: 'note',
  noteId: e.data.id,
  body: e.data.body.slice(0, 600)
});

/** Field names as people say them. */
const FIELD_LABELS: Record<string, string> = {
  first_name: 'First name',
  last_name: 'Last name',
  email: 'Email',
  phone: 'Phone',
  language: 'Language',
  birth_date: 'Birth date',
  tags: 'Tags',
  preferred_channels: 'Preferred channels',
  addresses: 'Addresses',
  'contacts.email': 'Other email',
  'contacts.phone': 'Other phone'
};

export function fieldLabel(field: string, attributeLabel: (key: string) => string | undefined): string {
  if (field.startsWith('attributes.')) {
    const key = field.slice('attributes.'.length);
    return attributeLabel(key) ?? key;
  }
  return FIELD_LABELS[field] ?? field.replace(/_/g, ' ');
}

/** A profile value as a short text: lists joined, objects summarised, nothing as an em dash. */
export function valueText(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  if (Array.isArray(value)) {
    if (value.length === 0) return '—';
    if (value.every((v) => typeof v === 'string')) return value.join(', ');
    return `${value.length} ${value.length === 1 ? 'entry' : 'entries'}`;
  }
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
