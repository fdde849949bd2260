import { presentMembershipChange } from '../../../presenters/segments.js';
import { WEBHOOK_EVENTS, type WebhookEvent } from '#shared/schemas/integrations.js';
import {
  presentCustomer,
  presentLoyaltyAccount,
  presentMessage,
  presentOrder,
  presentTicket
} from '../../../presenters/live-shapes.js';
import { camelKeys } from '../../../presenters/camel-keys.js';

/** Which change_log rows (topic and operation) each webhook event is made of. */
export const EVENT_SOURCES: Record<WebhookEvent, { topic: string; op: 'insert' | 'update' }> = {
  'order.created': { topic: 'order', op: 'insert' },
  'order.updated': { topic: 'order', op: 'update' },
  'ticket.created': { topic: 'ticket', op: 'insert' },
  'ticket.updated': { topic: 'ticket', op: 'update' },
  'ticket.message_added': { topic: 'ticket_message', op: 'insert' },
  'loyalty.changed': { topic: 'loyalty_account', op: 'update' },
  'customer.created': { topic: 'customer', op: 'insert' },
  'customer.updated': { topic: 'customer', op: 'update' },
  'product.created': { topic: 'product', op: 'insert' },
  'product.updated': { topic: 'product', op: 'update' },
  'segment.entered': { topic: 'segment_entered', op: 'insert' },
  'segment.left': { topic: 'segment_left', op: 'insert' }
};

/** The event of a change_log row, as SQL over `c.topic` and `c.op` (built from constants only). */
export const EVENT_OF_CHANGE_SQL = `CASE ${WEBHOOK_EVENTS.map(
  (e) => `WHEN c.topic = '${EVENT_SOURCES[e].topic}' AND c.op = '${EVENT_SOURCES[e].op}' THEN '${e}'`
).join(' ')} END`;

/** The topics that make any event (an index-friendly first filter). */
export const EVENT_TOPICS = [...new Set(Object.values(EVENT_SOURCES).map((s) => s.topic))];

/** A change's data in the shape the live events carry (decimal strings for money, camelCase). */
export function presentEventData(event: WebhookEvent, data: Record<string, unknown>): unknown {
  const d = camelKeys(data);
  switch (EVENT_SOURCES[event].topic) {
    case 'order':
      return presentOrder(d);
    case 'ticket':
      return presentTicket(d);
    case 'ticket_message':
      return presentMessage(d);
    case 'loyalty_account':
      return presentLoyaltyAccount(d);
    case 'customer':
      return presentCustomer(d);
    case 'segment_entered':
    case 'segment_left':
      return presentMembershipChange(d);
    default:
      return d;
  }
}
