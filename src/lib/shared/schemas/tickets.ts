import { z } from 'zod';
import {
  AGENT_STATUSES,
  LOYALTY_TIERS,
  TICKET_CHANNELS,
  TICKET_PRIORITIES,
  TICKET_STATUSES
} from '../enums.js';
import { CustomerSummary, Money, OrderSummary, TicketMessage, TicketSummary } from './live.js';

// The ticket console's contract: queue, ticket, actions, canned responses, SLA, availability.

export const QUEUE_VIEWS = ['mine', 'unassigned', 'team', 'all'] as const;
export type QueueView = (typeof QUEUE_VIEWS)[number];

export const SLA_STATES = ['ok', 'at_risk', 'breached'] as const;
export type SlaState = (typeof SLA_STATES)[number];

const csv = <T extends readonly [string, ...string[]]>(values: T) =>
  z
    .string()
    .transform((s) => s.split(',').filter(Boolean))
    .pipe(z.array(z.enum(values)).max(values.length));

export const QueueQuery = z.object({
  view: z.enum(QUEUE_VIEWS).default('mine'),
  status: csv(TICKET_STATUSES).optional(),
  priority: csv(TICKET_PRIORITIES).optional(),
  channel: csv(TICKET_CHANNELS).optional(),
  sla: csv(SLA_STATES).optional(),
  tag: z.string().trim().min(1).max(50).optional(),
  q: z.string().trim().min(1).max(200).optional(),
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50)
});
export type QueueQuery = z.input<typeof QueueQuery>;

export const PersonRef = z.object({ id: z.number().int(), name: z.string() });

/** A queue row: the ticket plus what the row shows about its customer, assignee and last message. */
export const QueueTicket = TicketSummary.extend({
  customer: z.object({ id: z.number().int(), name: z.string(), email: z.string() }),
  assignee: PersonRef.nullable(),
  lastMessage: z
    .object({
      preview: z.string(),
      authorType: z.enum(['customer', 'agent', 'system']),
      internal: z.boolean(),
      at: z.string()
    })
    .nullable()
});
export type QueueTicket = z.infer<typeof QueueTicket>;

export const QueueCounts = z.object({
  mine: z.number().int(),
  unassigned: z.number().int(),
  team: z.number().int(),
  all: z.number().int().nullable()
});
export type QueueCounts = z.infer<typeof QueueCounts>;

export const QueuePage = z.object({
  tickets: z.array(QueueTicket),
  counts: QueueCounts,
  nextCursor: z.string().nullable()
});
export type QueuePage = z.infer<typeof QueuePage>;

export const MessageWithAuthor = TicketMessage.extend({ author: PersonRef.nullable() });
export type MessageWithAuthor = z.infer<typeof MessageWithAuthor>;

/** What the panel beside the conversation shows about the customer. */
export const CustomerPanel = z.object({
  customer: CustomerSummary,
  loyalty: z
    .object({
      balance: z.number().int(),
      /** Pending (inside the return window) and available (spendable) make up the balance. */
      pending: z.number().int(),
      available: z.number().int(),
      lifetimePoints: z.number().int(),
      tier: z.enum(LOYALTY_TIERS),
      version: z.number().int(),
      /** Goodwill points granted from this ticket so far, and the program's limit per ticket. */
      goodwillGranted: z.number().int(),
      goodwillLimit: z.number().int()
    })
    .nullable(),
  lifetimeValue: Money,
  orderCount: z.number().int(),
  recentOrders: z.array(OrderSummary),
  openTickets: z.array(
    TicketSummary.pick({ id: true, subject: true, status: true, priority: true, updatedAt: true })
  )
});
export type CustomerPanel = z.infer<typeof CustomerPanel>;

export const TicketDetail = z.object({
  ticket: QueueTicket.extend({ team: PersonRef }),
  messages: z.array(MessageWithAuthor),
  panel: CustomerPanel
});
export type TicketDetail = z.infer<typeof TicketDetail>;

/** Allowed status moves. Reopening is a move from resolved or closed back to open. */
export const TICKET_TRANSITIONS: Record<
  (typeof TICKET_STATUSES)[number],
  readonly (typeof TICKET_STATUSES)[number][]
> = {
  new: ['open', 'pending', 'resolved', 'closed'],
  open: ['pending', 'resolved', 'closed'],
  pending: ['open', 'resolved', 'closed'],
  resolved: ['open', 'closed'],
  closed: ['open']
};

/** Every change names the version it was made against; a stale one is refused, nothing overwritten. */
export const TicketPatch = z
  .object({
    version: z.number().int().min(1),
    status: z.enum(TICKET_STATUSES).optional(),
    priority: z.enum(TICKET_PRIORITIES).optional(),
    assigneeId: z.number().int().positive().nullable().optional(),
    tags: z.array(z.string().trim().toLowerCase().min(1).max(40)).max(20).optional(),
    orderId: z.number().int().positive().nullable().optional()
  })
  .refine((p) => Object.keys(p).length > 1, { message: 'nothing to change' });
export type TicketPatch = z.input<typeof TicketPatch>;

export const ReplyBody = z.object({
  body: z.string().trim().min(1).max(20_000),
  internal: z.boolean().default(false),
  /** Optionally move the ticket in the same step (reply and set pending, reply and resolve). */
  status: z.enum(TICKET_STATUSES).optional()
});
export type ReplyBody = z.input<typeof ReplyBody>;

export const CsatBody = z.object({ score: z.number().int().min(1).max(5) });

/** An inbound message from an integration (email, chat widget...): a new ticket, or a message on an open one. */
export const InboundMessage = z.object({
  channel: z.enum(TICKET_CHANNELS),
  email: z.string().trim().toLowerCase().pipe(z.email()),
  name: z.string().trim().min(1).max(160).optional(),
  subject: z.string().trim().min(1).max(200),
  body: z.string().trim().min(1).max(20_000),
  teamId: z.number().int().positive().optional(),
  orderExternalId: z.string().trim().min(1).max(120).optional(),
  /** Replies into this ticket when it belongs to the same customer and is still open. */
  ticketId: z.number().int().positive().optional()
});
export type InboundMessage = z.input<typeof InboundMessage>;

export const CannedResponse = z.object({
  id: z.number().int(),
  title: z.string(),
  body: z.string(),
  teamId: z.number().int().nullable(),
  updatedAt: z.string()
});
export type CannedResponse = z.infer<typeof CannedResponse>;

export const CannedQuery = z.object({ q: z.string().trim().min(1).max(100).optional() });

export const CannedBody = z.object({
  title: z.string().trim().min(1).max(120),
  body: z.string().trim().min(1).max(10_000),
  teamId: z.number().int().positive().nullable().default(null)
});

export const SlaPolicy = z.object({
  priority: z.enum(TICKET_PRIORITIES),
  firstResponseMinutes: z.number().int().min(1).max(43_200),
  resolutionMinutes: z.number().int().min(1).max(129_600)
});
export type SlaPolicy = z.infer<typeof SlaPolicy>;
export const SlaPoliciesBody = z.object({
  policies: z
    .array(
      SlaPolicy.refine((p) => p.resolutionMinutes >= p.firstResponseMinutes, {
        message: 'resolution target must be at least the first-response target',
        path: ['resolutionMinutes']
      })
    )
    .min(1)
    .max(4)
    .refine((list) => new Set(list.map((p) => p.priority)).size === list.length, {
      message: 'each priority at most once'
    })
});

export const AgentStatusBody = z.object({ status: z.enum(AGENT_STATUSES) });

export const AgentsQuery = z.object({ teamId: z.coerce.number().int().positive().optional() });

/** Refund or cancel an order; an agent names the ticket of that customer they act from. */
export const OrderActionBody = z.object({ ticketId: z.number().int().positive().optional() });

export const Agent = z.object({
  id: z.number().int(),
  name: z.string(),
  teamId: z.number().int().nullable(),
  status: z.enum(AGENT_STATUSES),
  capacity: z.number().int(),
  openTickets: z.number().int()
});
export type Agent = z.infer<typeof Agent>;

/** Placeholders a canned response may use, filled in from the ticket on screen. */
export const CANNED_PLACEHOLDERS = {
  '{{customer.first_name}}': 'Customer’s first name',
  '{{customer.name}}': 'Customer’s full name',
  '{{order.number}}': 'Linked order, or the customer’s last order',
  '{{agent.first_name}}': 'Your first name',
  '{{ticket.number}}': 'Ticket number'
} as const;

export function fillPlaceholders(
  body: string,
  ctx: {
    customerFirstName: string;
    customerName: string;
    orderNumber: string | null;
    agentFirstName: string;
    ticketNumber: number;
  }
): string {
  const values: Record<string, string> = {
    '{{customer.first_name}}': ctx.customerFirstName,
    '{{customer.name}}': ctx.customerName,
    '{{order.number}}': ctx.orderNumber ?? 'your order',
    '{{agent.first_name}}': ctx.agentFirstName,
    '{{ticket.number}}': `#${ctx.ticketNumber}`
  };
  return body.replace(/\{\{\s*([a-z_.]+)\s*\}\}/g, (match, key: string) => values[`{{${key}}}`] ?? match);
}
