import type { AgentAvailability, Change, DELIVERED_EVENTS, ServerToClientEvents } from '#shared/events.js';
import { rooms } from '#shared/rooms.js';
import { camelKeys } from '../presenters/camel-keys.js';
import { presentProduct, presentStockMovement } from '../presenters/inventory.js';
import {
  presentCustomer,
  presentLoyaltyAccount,
  presentMergeChange,
  presentLoyaltyEntry,
  presentMessage,
  presentOrder,
  presentTicket
} from '../presenters/live-shapes.js';
import {
  presentConsentRecord,
  presentContactRecord,
  presentNoteRecord,
  presentOrderStatusChange,
  presentProfileChange,
  presentTierChange
} from '../presenters/customer360-live.js';
import { presentMembershipChange, presentSegmentChange } from '../presenters/segments.js';
import type { ChangeRow } from './change-reader.js';
import { presentDeliveryChange } from '../presenters/store-delivery.js';

/** The events a change of the log becomes. */
export type DeliveredEvent = (typeof DELIVERED_EVENTS)[number];

/**
 * A change_log row turned into the event clients receive and the rooms that may see it. A union
 * over the catalogue: each event travels with its own payload type, so a presenter that returns
 * the wrong shape for an event does not compile.
 */
export type Outgoing = {
  [E in DeliveredEvent]: {
    event: E;
    payload: Parameters<ServerToClientEvents[E]>[0];
    rooms: string[];
    topic: string;
  };
}[DeliveredEvent];

type Json = Record<string, unknown>;

/** The rooms of the teams among `ids` (ids that are not numbers, such as a null team, are skipped). */
export const teamRooms = (...ids: unknown[]): string[] =>
  ids.filter((t): t is number => typeof t === 'number').map(rooms.team);

/** Previous values of changed fields, in the DTO's names (only the ones the DTO has). */
function presentOld<T extends object>(
  old: Json | null,
  present: (d: Json) => T,
  current: Json,
  after: T
): Partial<T> | undefined {
  if (!old) return undefined;
  const before = present({ ...current, ...old }) as Record<string, unknown>;
  const now = after as Record<string, unknown>;
  const diff: Record<string, unknown> = {};
  for (const key of Object.keys(now)) {
    if (JSON.stringify(before[key]) !== JSON.stringify(now[key])) diff[key] = before[key];
  }
  return diff as Partial<T>;
}

/**
 * Decides, for one change, the event name, its payload and the rooms allowed to see it.
 * Returns null for changes no client is sent (order items, access changes handled by the hub).
 */
export function route(row: ChangeRow, horizon: string): Outgoing | null {
  const meta = { seq: row.id, horizon, at: row.createdAt };
  // The row's JSON in the presenters' names, converted only for the topics that are sent.
  const change = <T extends object>(present: (d: Json) => T) => {
    const data = camelKeys(row.data);
    const old = row.old && camelKeys(row.old);
    const after = present(data);
    return {
      ...meta,
      op: row.op,
      data: after,
      ...(old ? { old: presentOld(old, present, data, after) } : {})
    };
  };
  const customerRooms = row.customerId ? [rooms.managers, rooms.customer(row.customerId)] : [rooms.managers];
  // List screens (list:watch): a customer's row shows its orders and points too.
  const customerList = [...customerRooms, rooms.list('customers')];

  switch (row.topic) {
    case 'order':
      return {
        topic: row.topic,
        event: row.op === 'insert' ? 'order:created' : 'order:updated',
        payload: change(presentOrder),
        rooms: [...customerList, rooms.list('orders')]
      };
    case 'ticket':
      return {
        topic: row.topic,
        event: row.op === 'insert' ? 'ticket:created' : 'ticket:updated',
        payload: change(presentTicket),
        rooms: [rooms.managers, rooms.ticket(row.entityId!), ...teamRooms(row.teamId, row.old?.team_id)]
      };
    case 'ticket_message': {
      if (row.op !== 'insert') return null;
      const ticketId = Number(row.data.ticket_id);
      return {
        topic: row.topic,
        event: 'ticket:message_added',
        payload: change(presentMessage),
        rooms: [rooms.managers, rooms.ticket(ticketId), ...teamRooms(row.teamId)]
      };
    }
    case 'loyalty_account':
    case 'loyalty_entry':
      // Points belong to a customer; a row without one has no audience but the managers' wallboard.
      if (row.customerId === null) return null;
      return loyaltyChange(row, { ...meta, customerId: row.customerId }, customerList);
    case 'customer':
      return {
        topic: row.topic,
        event: 'customer:updated',
        payload: change(presentCustomer),
        rooms: customerList
      };
    case 'product':
      // Everyone may see products: the products table and the product's page.
      return {
        topic: row.topic,
        event: row.op === 'insert' ? 'product:created' : 'product:updated',
        payload: change(presentProduct),
        rooms: [rooms.list('products'), ...(row.entityId === null ? [] : [rooms.product(row.entityId)])]
      };
    case 'customer_merge': {
      if (row.op !== 'insert') return null;
      const merge = presentMergeChange(camelKeys(row.data));
      return {
        topic: row.topic,
        event: 'customer:merged',
        payload: { ...meta, survivorId: merge.survivorId, mergedId: merge.mergedId, merge },
        rooms: [rooms.managers, rooms.customer(merge.survivorId), rooms.customer(merge.mergedId)]
      };
    }
    case 'segment_entered':
    case 'segment_left':
      return {
        topic: row.topic,
        event: row.topic === 'segment_entered' ? 'segment:entered' : 'segment:left',
        payload: change(presentMembershipChange),
        rooms: customerList
      };
    case 'segment':
      // Segments are read by everyone who sees the customers table.
      return {
        topic: row.topic,
        event: 'segment:changed',
        payload: change(presentSegmentChange),
        rooms: [rooms.managers, rooms.list('customers')]
      };
    case 'stock_movement':
      // Everyone may see products: a movement goes to its product's page.
      return {
        topic: row.topic,
        event: 'stock:moved',
        payload: change(presentStockMovement),
        rooms: [rooms.product(Number(row.data.product_id))]
      };
    case 'store_delivery':
      // The stores admin's delivery list (managers and admins; the body never travels).
      return {
        topic: row.topic,
        event: 'store:delivery_changed',
        payload: change(presentDeliveryChange),
        rooms: [rooms.managers]
      };
    case 'campaign_activity':
      // A campaign report's cue to recompute (migration 0029): its own room only.
      if (row.entityId === null) return null;
      return {
        topic: row.topic,
        event: 'campaign:activity',
        payload: {
          ...meta,
          campaignId: row.entityId,
          kind: row.data.kind === 'members' ? 'members' : 'orders',
          count: Number(row.data.count)
        },
        rooms: [rooms.campaign(row.entityId)]
      };
    default:
      return routeCustomer360(row, change);
  }
}

/**
 * The customer 360's own topics: history rows a profile's timeline shows, sent to the
 * customer's room only (whoever watches that customer, after the watch's policy check).
 */
function routeCustomer360(
  row: ChangeRow,
  change: <T extends object>(present: (d: Json) => T) => Change<T>
): Outgoing | null {
  if (row.customerId === null) return null;
  const audience = [rooms.customer(row.customerId)];
  const topic = row.topic;
  switch (topic) {
    case 'order_status_change':
      return {
        topic,
        event: 'order:status_changed',
        payload: change(presentOrderStatusChange),
        rooms: audience
      };
    case 'loyalty_tier_change':
      return { topic, event: 'loyalty:tier_changed', payload: change(presentTierChange), rooms: audience };
    case 'customer_change':
      return {
        topic,
        event: 'customer:profile_changed',
        payload: change(presentProfileChange),
        rooms: audience
      };
    case 'customer_consent':
      return {
        topic,
        event: 'customer:consent_recorded',
        payload: change(presentConsentRecord),
        rooms: audience
      };
    case 'customer_note':
      return {
        topic,
        event: row.op === 'delete' ? 'customer:note_removed' : 'customer:note_added',
        payload: change(presentNoteRecord),
        rooms: audience
      };
    case 'customer_contact':
      return {
        topic,
        event: 'customer:contact_changed',
        payload: change(presentContactRecord),
        rooms: audience
      };
    default:
      return null;
  }
}

/**
 * Emits an outgoing change on a socket or a room selection. The one place the pairing of event
 * and payload, checked where `route()` builds it, is handed to Socket.IO's untyped emit.
 */
export function emitOutgoing(target: { emit: (...args: never[]) => unknown }, out: Outgoing) {
  (target.emit as (event: string, payload: unknown) => unknown)(out.event, out.payload);
}

function loyaltyChange(
  row: ChangeRow,
  meta: { seq: number; horizon: string; at: string; customerId: number },
  audience: string[]
): Outgoing {
  const data = camelKeys(row.data);
  const payload =
    row.topic === 'loyalty_account'
      ? { ...meta, account: presentLoyaltyAccount(data) }
      : { ...meta, entry: presentLoyaltyEntry(data) };
  return { topic: row.topic, event: 'loyalty:changed', payload, rooms: audience };
}

/**
 * A `user` change as agents' availability, which their team and the managers see; null unless it
 * is a new agent or a user whose status, team, role or active flag changed.
 */
export function routeAvailability(row: ChangeRow, horizon: string): Outgoing | null {
  if (!availabilityChanged(row)) return null;
  const d = row.data;
  return {
    topic: row.topic,
    event: 'agent:status_changed',
    payload: {
      seq: row.id,
      horizon,
      at: row.createdAt,
      agent: {
        id: Number(d.id),
        name: String(d.name),
        teamId: (d.team_id as number | null) ?? null,
        status: d.status as AgentAvailability['status'],
        capacity: Number(d.capacity),
        active: d.active !== false,
        role: d.role as AgentAvailability['role'],
        statusChangedAt: new Date(String(d.status_changed_at)).toISOString()
      }
    },
    rooms: [rooms.managers, ...teamRooms(d.team_id, row.old?.team_id)]
  };
}

function availabilityChanged(row: ChangeRow): boolean {
  if (row.op === 'insert') return row.data.role === 'agent';
  return !!row.old && ['status', 'team_id', 'active', 'role'].some((k) => k in row.old!);
}
