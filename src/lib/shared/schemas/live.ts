import { z } from 'zod';
import {
  LOYALTY_BONUSES,
  LOYALTY_ENTRY_KINDS,
  LOYALTY_TIERS,
  MESSAGE_AUTHORS,
  ORDER_STATUSES,
  SALES_CHANNELS,
  TICKET_CHANNELS,
  TICKET_PRIORITIES,
  TICKET_STATUSES
} from '../enums.js';

// The shapes live events carry. The API's list endpoints present the same shapes, so a screen
// can merge an event into what it loaded without translating.

const isoDate = z.string();
/** Money travels as an exact decimal string, e.g. "129.90". */
export const Money = z.string().regex(/^-?\d+\.\d{2}$/);

export const OrderSummary = z.object({
  id: z.number().int(),
  customerId: z.number().int(),
  orderDate: isoDate,
  status: z.enum(ORDER_STATUSES),
  total: Money,
  currency: z.string(),
  channel: z.enum(SALES_CHANNELS),
  externalId: z.string().nullable(),
  /** Grows with every change: a client applies an event only when it is newer than what it shows. */
  version: z.number().int()
});
export type OrderSummary = z.infer<typeof OrderSummary>;

export const TicketSummary = z.object({
  id: z.number().int(),
  customerId: z.number().int(),
  orderId: z.number().int().nullable(),
  subject: z.string(),
  status: z.enum(TICKET_STATUSES),
  priority: z.enum(TICKET_PRIORITIES),
  channel: z.enum(TICKET_CHANNELS),
  assigneeId: z.number().int().nullable(),
  teamId: z.number().int(),
  tags: z.array(z.string()),
  firstResponseDueAt: isoDate.nullable(),
  resolutionDueAt: isoDate.nullable(),
  firstRespondedAt: isoDate.nullable(),
  resolvedAt: isoDate.nullable(),
  csatScore: z.number().int().nullable(),
  lastMessageAt: isoDate,
  flagged: z.boolean(),
  assignedAt: isoDate.nullable(),
  version: z.number().int(),
  createdAt: isoDate,
  updatedAt: isoDate
});
export type TicketSummary = z.infer<typeof TicketSummary>;

export const TicketMessage = z.object({
  id: z.number().int(),
  ticketId: z.number().int(),
  authorType: z.enum(MESSAGE_AUTHORS),
  authorUserId: z.number().int().nullable(),
  body: z.string(),
  internal: z.boolean(),
  createdAt: isoDate
});
export type TicketMessage = z.infer<typeof TicketMessage>;

export const LoyaltyAccountSummary = z.object({
  id: z.number().int(),
  customerId: z.number().int(),
  balance: z.number().int(),
  /** Earned on orders still inside the return window: part of the balance, not yet spendable. */
  pending: z.number().int(),
  /** balance - pending: what can be spent now. */
  available: z.number().int(),
  lifetimePoints: z.number().int(),
  tier: z.enum(LOYALTY_TIERS),
  version: z.number().int()
});
export type LoyaltyAccountSummary = z.infer<typeof LoyaltyAccountSummary>;

export const LoyaltyEntry = z.object({
  id: z.number().int(),
  accountId: z.number().int(),
  customerId: z.number().int(),
  kind: z.enum(LOYALTY_ENTRY_KINDS),
  points: z.number().int(),
  reason: z.string(),
  orderId: z.number().int().nullable(),
  /** The ticket goodwill points were granted from. */
  ticketId: z.number().int().nullable().optional(),
  /** For a bonus event's earning: which bonus (loyalty_ledger.bonus). */
  bonus: z.enum(LOYALTY_BONUSES).nullable().optional(),
  createdAt: isoDate
});
export type LoyaltyEntry = z.infer<typeof LoyaltyEntry>;

export const CustomerSummary = z.object({
  id: z.number().int(),
  email: z.string(),
  firstName: z.string(),
  lastName: z.string(),
  phone: z.string().nullable(),
  language: z.string(),
  tags: z.array(z.string()),
  marketingConsent: z.boolean(),
  version: z.number().int(),
  createdAt: isoDate,
  updatedAt: isoDate
});
export type CustomerSummary = z.infer<typeof CustomerSummary>;
