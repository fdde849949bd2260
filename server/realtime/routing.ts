import type { ServerToClientEvents } from '../../src/lib/shared/events.js';
import { rooms } from '../../src/lib/shared/rooms.js';
import { camelKeys } from '../presenters/camel-keys.js';
import {
  presentCustomer,
  presentLoyaltyAccount,
  presentLoyaltyEntry,
  presentMessage,
  presentOrder,
  presentTicket
} from '../presenters/live-shapes.js';
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
  const data = camelKeys(row.data);
  const old = row.old && camelKeys(row.old);
  const change = <T extends object>(present: (d: Json) => T) => ({
    ...meta,
    op: row.op,
    data: present(data),
    ...(old ? { old: presentOld(old, present, data) } : {})
  });
  const customerRooms = row.customerId ? [rooms.managers, rooms.customer(row.customerId)] : [rooms.managers];

  switch (row.topic) {
    case 'order':
      return { topic: row.topic, event: row.op === 'insert' ? 'order:created' : 'order:updated', payload: change(presentOrder), rooms: customerRooms };
    case 'ticket': {
      const teamRooms = [row.teamId, old?.teamId].filter((t): t is number => typeof t === 'number').map(rooms.team);
      return {
        topic: row.topic,
        event: row.op === 'insert' ? 'ticket:created' : 'ticket:updated',
        payload: change(presentTicket),
        rooms: [rooms.managers, rooms.ticket(row.entityId!), ...teamRooms]
      };
    }
    case 'ticket_message': {
      if (row.op !== 'insert') return null;
      const ticketId = Number(data.ticketId);
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
        payload: { ...meta, customerId: row.customerId, account: presentLoyaltyAccount(data) },
        rooms: customerRooms
      };
    case 'loyalty_entry':
      return {
        topic: row.topic,
        event: 'loyalty:changed',
        payload: { ...meta, customerId: row.customerId, entry: presentLoyaltyEntry(data) },
        rooms: customerRooms
      };
    case 'customer':
      return { topic: row.topic, event: 'customer:updated', payload: change(presentCustomer), rooms: customerRooms };
    default:
      return null;
  }
}
