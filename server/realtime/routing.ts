import type { ServerToClientEvents } from '../../src/lib/shared/events.js';
import { rooms } from '../../src/lib/shared/rooms.js';
import type {
  CustomerSummary,
  LoyaltyAccountSummary,
  LoyaltyEntry,
  OrderSummary,
  TicketMessage,
  TicketSummary
} from '../../src/lib/shared/schemas/live.js';
import type { ChangeRow } from './change-reader.js';

export type EventName = keyof ServerToClientEvents;

/** A change_log row turned into the event clients receive and the rooms that may see it. */
export interface Outgoing {
  event: EventName;
  payload: Record<string, unknown> & { seq: number };
  rooms: string[];
  topic: string;
}

type Json = Record<string, unknown>;

const iso = (v: unknown) => (v == null ? null : new Date(String(v)).toISOString());
const money = (v: unknown) => Number(v).toFixed(2);
const int = (v: unknown) => (v == null ? null : Number(v));

export function presentOrder(d: Json): OrderSummary {
  return {
    id: Number(d.id),
    customerId: Number(d.customer_id),
    orderDate: iso(d.order_date)!,
    status: d.status as OrderSummary['status'],
    total: money(d.total),
    currency: String(d.currency),
    channel: d.channel as OrderSummary['channel'],
    externalId: (d.external_id as string | null) ?? null
  };
}

export function presentTicket(d: Json): TicketSummary {
  return {
    id: Number(d.id),
    customerId: Number(d.customer_id),
    orderId: int(d.order_id),
    subject: String(d.subject),
    status: d.status as TicketSummary['status'],
    priority: d.priority as TicketSummary['priority'],
    channel: d.channel as TicketSummary['channel'],
    assigneeId: int(d.assignee_id),
    teamId: Number(d.team_id),
    tags: (d.tags as string[]) ?? [],
    firstResponseDueAt: iso(d.first_response_due_at),
    resolutionDueAt: iso(d.resolution_due_at),
    firstRespondedAt: iso(d.first_responded_at),
    resolvedAt: iso(d.resolved_at),
    csatScore: int(d.csat_score),
    lastMessageAt: iso(d.last_message_at)!,
    version: Number(d.version),
    createdAt: iso(d.created_at)!,
    updatedAt: iso(d.updated_at)!
  };
}

export function presentMessage(d: Json): TicketMessage {
  return {
    id: Number(d.id),
    ticketId: Number(d.ticket_id),
    authorType: d.author_type as TicketMessage['authorType'],
    authorUserId: int(d.author_user_id),
    body: String(d.body),
    internal: Boolean(d.internal),
    createdAt: iso(d.created_at)!
  };
}

export function presentLoyaltyAccount(d: Json): LoyaltyAccountSummary {
  return {
    id: Number(d.id),
    customerId: Number(d.customer_id),
    balance: Number(d.balance),
    lifetimePoints: Number(d.lifetime_points),
    tier: d.tier as LoyaltyAccountSummary['tier']
  };
}

export function presentLoyaltyEntry(d: Json): LoyaltyEntry {
  return {
    id: Number(d.id),
    accountId: Number(d.account_id),
    customerId: Number(d.customer_id),
    kind: d.kind as LoyaltyEntry['kind'],
    points: Number(d.points),
    reason: String(d.reason),
    orderId: int(d.order_id),
    createdAt: iso(d.created_at)!
  };
}

export function presentCustomer(d: Json): CustomerSummary {
  return {
    id: Number(d.id),
    email: String(d.email),
    firstName: String(d.first_name),
    lastName: String(d.last_name ?? ''),
    phone: (d.phone as string | null) ?? null,
    language: String(d.language ?? 'en'),
    tags: (d.tags as string[]) ?? [],
    marketingConsent: Boolean(d.marketing_consent),
    createdAt: iso(d.created_at)!,
    updatedAt: iso(d.updated_at)!
  };
}

/** Previous values of changed fields, in the DTO's names (only the ones the DTO has). */
function presentOld<T extends object>(old: Json | null, present: (d: Json) => T, current: Json): Partial<T> | undefined {
  if (!old) return undefined;
  const before = present({ ...current, ...old }) as Record<string, unknown>;
  const after = present(current) as Record<string, unknown>;
  const diff: Record<string, unknown> = {};
  for (const key of Object.keys(after)) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) diff[key] = before[key];
  }
  return diff as Partial<T>;
}

/**
 * Decides, for one change, the event name, its payload and the rooms allowed to see it.
 * Returns null for changes no client is sent (order items, access changes handled by the hub).
 */
export function route(row: ChangeRow, horizon: string): Outgoing | null {
  const meta = { seq: row.id, horizon, at: row.createdAt };
  const change = <T extends object>(present: (d: Json) => T) => ({
    ...meta,
    op: row.op,
    data: present(row.data),
    ...(row.old ? { old: presentOld(row.old, present, row.data) } : {})
  });
  const customerRooms = row.customerId ? [rooms.managers, rooms.customer(row.customerId)] : [rooms.managers];

  switch (row.topic) {
    case 'order':
      return { topic: row.topic, event: row.op === 'insert' ? 'order:created' : 'order:updated', payload: change(presentOrder), rooms: customerRooms };
    case 'ticket': {
      const teamRooms = [row.teamId, row.old?.team_id].filter((t): t is number => typeof t === 'number').map(rooms.team);
      return {
        topic: row.topic,
        event: row.op === 'insert' ? 'ticket:created' : 'ticket:updated',
        payload: change(presentTicket),
        rooms: [rooms.managers, rooms.ticket(row.entityId!), ...teamRooms]
      };
    }
    case 'ticket_message': {
      if (row.op !== 'insert') return null;
      const ticketId = Number(row.data.ticket_id);
      return {
        topic: row.topic,
        event: 'ticket:message_added',
        payload: change(presentMessage),
        rooms: [rooms.managers, rooms.ticket(ticketId), ...(row.teamId ? [rooms.team(row.teamId)] : [])]
      };
    }
    case 'loyalty_account':
      return {
        topic: row.topic,
        event: 'loyalty:changed',
        payload: { ...meta, customerId: row.customerId, account: presentLoyaltyAccount(row.data) },
        rooms: customerRooms
      };
    case 'loyalty_entry':
      return {
        topic: row.topic,
        event: 'loyalty:changed',
        payload: { ...meta, customerId: row.customerId, entry: presentLoyaltyEntry(row.data) },
        rooms: customerRooms
      };
    case 'customer':
      return { topic: row.topic, event: 'customer:updated', payload: change(presentCustomer), rooms: customerRooms };
    default:
      return null;
  }
}
