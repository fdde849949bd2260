import { z } from 'zod';
import {
  LOYALTY_ENTRY_KINDS,
  LOYALTY_TIERS,
  MESSAGE_AUTHORS,
  ORDER_STATUSES,
  SALES_CHANNELS,
  TICKET_STATUSES,
  type LoyaltyBonus
} from '../enums.js';
import { RFM_SEGMENTS } from './analytics.js';

// The customer 360: profile, contacts, consent, notes, custom attributes, numbers and the one
// timeline. Request bodies are validated here; the service checks what depends on the database
// (attribute definitions, versions, uniqueness).

// Custom attributes --------------------------------------------------------------------------

export const ATTRIBUTE_ENTITIES = ['customer', 'order', 'product'] as const;
export const ATTRIBUTE_TYPES = ['text', 'number', 'money', 'date', 'boolean', 'choice'] as const;
export type AttributeType = (typeof ATTRIBUTE_TYPES)[number];

export const AttributeKey = z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'lower case letters, digits and _');
const Label = z
  .string()
  .trim()
  .min(1, 'is required')
  .max(80)
  .refine((s) => /\S/.test(s), 'is required');
const Options = z
  .array(z.string().trim().min(1).max(80))
  .max(100)
  .refine((o) => new Set(o).size === o.length, 'options must be different from each other');

export interface AttributeDefinition {
  id: number;
  entity: (typeof ATTRIBUTE_ENTITIES)[number];
  key: string;
  label: string;
  type: AttributeType;
  options: string[];
  createdAt: string;
}

export const AttributeDefinitionsQuery = z.object({
  entity: z.enum(ATTRIBUTE_ENTITIES).default('customer')
});

export const AttributeDefinitionBody = z
  .object({
    entity: z.enum(ATTRIBUTE_ENTITIES).default('customer'),
    key: AttributeKey,
    label: Label,
    type: z.enum(ATTRIBUTE_TYPES),
    options: Options.default([])
  })
  .strict()
  .refine((d) => (d.type === 'choice') === d.options.length > 0, {
    message: 'a one-of-list attribute needs options, and only it has them',
    path: ['options']
  });

export const AttributeDefinitionPatch = z
  .object({ label: Label.optional(), options: Options.optional() })
  .strict()
  .refine((d) => d.label !== undefined || d.options !== undefined, 'nothing to change');

/**
 * Whether `value` fits an attribute of `type` (and `options`); the value as stored, or an error
 * message. Money is stored as an exact decimal string with two places, dates as YYYY-MM-DD.
 */
export function checkAttributeValue(
  def: { type: AttributeType; options: string[] },
  value: unknown
): { ok: true; value: string | number | boolean } | { ok: false; message: string } {
  switch (def.type) {
    case 'text':
      return typeof value === 'string' && value.length <= 1000
        ? { ok: true, value }
        : { ok: false, message: 'must be text of at most 1000 characters' };
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) < 1e15
        ? { ok: true, value }
        : { ok: false, message: 'must be a number' };
    case 'money': {
      const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
      if (typeof text !== 'string' || !/^-?\d{1,12}(\.\d{1,2})?$/.test(text))
        return { ok: false, message: 'must be an amount with at most two decimals' };
      const [whole, cents = ''] = text.split('.');
      return { ok: true, value: `${whole}.${cents.padEnd(2, '0')}` };
    }
    case 'date': {
      if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value))
        return { ok: false, message: 'must be a date like 2026-01-31' };
      const d = new Date(`${value}T00:00:00Z`);
      return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value
        ? { ok: true, value }
        : { ok: false, message: 'must be a real date' };
    }
    case 'boolean':
      return typeof value === 'boolean'
        ? { ok: true, value }
        : { ok: false, message: 'must be true or false' };
    case 'choice':
      return typeof value === 'string' && def.options.includes(value)
        ? { ok: true, value }
        : { ok: false, message: `must be one of: ${def.options.join(', ')}` };
  }
}

// Profile ------------------------------------------------------------------------------------

export const CONSENT_CHANNELS = ['email', 'sms', 'phone', 'push'] as const;
export type ConsentChannel = (typeof CONSENT_CHANNELS)[number];
export const CONSENT_SOURCES = ['checkout', 'agent', 'import', 'webhook', 'customer', 'merge'] as const;
export type ConsentSource = (typeof CONSENT_SOURCES)[number];
export const PREFERRED_CHANNELS = ['email', 'sms', 'phone', 'chat', 'push'] as const;

const EMAIL_RE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const PHONE_RE = /^\+?[0-9 ()-]{6,24}$/;
export const Email = z
  .string()
  .trim()
  .max(254)
  .regex(EMAIL_RE, 'must be an email address like name@example.com');
export const Phone = z
  .string()
  .trim()
  .regex(PHONE_RE, 'must be a phone number: digits, spaces, ( ) - and a leading +');

export const Address = z
  .object({
    label: z.string().trim().max(40).default(''),
    name: z.string().trim().max(120).optional(),
    line1: z.string().trim().min(1, 'is required').max(200),
    line2: z.string().trim().max(200).optional(),
    city: z.string().trim().min(1, 'is required').max(120),
    region: z.string().trim().max(120).optional(),
    postal_code: z.string().trim().max(20).optional(),
    country: z
      .string()
      .trim()
      .regex(/^[A-Z]{2}$/, 'must be a two-letter country code'),
    /** The default shipping address; its country is the customer's country (customer_country()). */
    default: z.boolean().optional(),
    /** The default billing address. */
    default_billing: z.boolean().optional()
  })
  .strict();
export type Address = z.infer<typeof Address>;

/** A customer's addresses: at most ten, one default shipping and one default billing at most. */
export const Addresses = z
  .array(Address)
  .max(10)
  .refine((list) => list.filter((a) => a.default).length <= 1, {
    message: 'only one address can be the default shipping address'
  })
  .refine((list) => list.filter((a) => a.default_billing).length <= 1, {
    message: 'only one address can be the default billing address'
  });

export interface CustomerProfile {
  id: number;
  email: string;
  firstName: string;
  lastName: string;
  phone: string | null;
  addresses: Address[];
  preferredChannels: string[];
  language: string;
  tags: string[];
  /** Values of custom attributes, by key. */
  attributes: Record<string, unknown>;
  marketingConsent: boolean;
  /** YYYY-MM-DD; the loyalty program's birthday bonus comes on its day (migration 0031). */
  birthDate: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

const Tag = z
  .string()
  .trim()
  .min(1)
  .max(40)
  .regex(/^[^,]+$/, 'cannot contain a comma');

/**
 * Today's date where it is latest (UTC+14): a birth date after it is in the future wherever the
 * customer lives, and one on it is today somewhere, so no time zone refuses a real birthday.
 */
const latestToday = () => new Date(Date.now() + 14 * 3_600_000).toISOString().slice(0, 10);

/** An inline edit: the fields sent change, `version` is what the editor saw (stale: 409). */
export const CustomerPatch = z
  .object({
    version: z.number().int().min(1),
    firstName: z.string().trim().min(1, 'is required').max(80).optional(),
    lastName: z.string().trim().max(80).optional(),
    email: Email.optional(),
    phone: Phone.nullable().optional(),
    language: z
      .string()
      .regex(/^[a-z]{2}(-[A-Z]{2})?$/, 'must be a language code like en or pt-BR')
      .optional(),
    tags: z
      .array(Tag)
      .max(50)
      .refine((t) => new Set(t).size === t.length, 'tags must be different from each other')
      .optional(),
    preferredChannels: z.array(z.enum(PREFERRED_CHANNELS)).max(5).optional(),
    addresses: Addresses.optional(),
    birthDate: z.iso
      .date('must be a date like 1990-06-15')
      .refine((d) => d >= '1900-01-01', 'must be in 1900 or later')
      .refine((d) => d <= latestToday(), 'cannot be in the future')
      .nullable()
      .optional(),
    /** Custom attribute values by key; null removes one. Checked against the definitions. */
    attributes: z.record(z.string(), z.unknown()).optional()
  })
  .strict();
export type CustomerPatch = z.infer<typeof CustomerPatch>;

export interface CustomerContact {
  id: number;
  customerId: number;
  kind: 'email' | 'phone';
  value: string;
  normalized: string;
  label: string;
  version: number;
  createdAt: string;
}

export const ContactBody = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('email'), value: Email, label: z.string().trim().max(40).default('') }).strict(),
  z.object({ kind: z.literal('phone'), value: Phone, label: z.string().trim().max(40).default('') }).strict()
]);

/** Change a contact's label or value, or make it the primary one (its value swaps with the primary). */
export const ContactPatch = z
  .object({
    version: z.number().int().min(1),
    value: z.string().trim().min(1).max(254).optional(),
    label: z.string().trim().max(40).optional(),
    primary: z.literal(true).optional()
  })
  .strict();

export interface ConsentEntry {
  id: number;
  customerId: number;
  channel: ConsentChannel;
  granted: boolean;
  at: string;
  source: ConsentSource;
  actor: Person | null;
  note: string;
}

export const ConsentBody = z
  .object({
    channel: z.enum(CONSENT_CHANNELS),
    granted: z.boolean(),
    note: z.string().trim().max(200).default('')
  })
  .strict();

export interface CustomerNote {
  id: number;
  customerId: number;
  author: Person | null;
  body: string;
  createdAt: string;
}

export const NoteBody = z
  .object({
    body: z.string().trim().min(1, 'is required').max(10000)
  })
  .strict();

export const NotesQuery = z.object({ q: z.string().trim().max(200).optional() });

export interface Person {
  id: number;
  name: string;
}

// Numbers ------------------------------------------------------------------------------------

export interface CustomerNumbers {
  /** Sum of counted orders (not cancelled or refunded). */
  lifetimeValue: string;
  orders: number;
  /** Counted orders only; null without one. */
  averageOrderValue: string | null;
  firstOrderAt: string | null;
  lastOrderAt: string | null;
  /** Over the last 12 months' buyers (as the RFM report); null when no order in that time. */
  rfmSegment: (typeof RFM_SEGMENTS)[number] | null;
  loyalty: {
    tier: (typeof LOYALTY_TIERS)[number];
    /** The ledger's sum: available + pending. */
    balance: number;
    /** Earned on orders still inside the return window. */
    pending: number;
    /** Points that can be spent now. */
    available: number;
    lifetimePoints: number;
    version: number;
  } | null;
  openTickets: number;
  averageCsat: number | null;
  csatResponses: number;
  /** The last 12 months, oldest first, counted orders only. */
  spendByMonth: { month: string; revenue: string; orders: number }[];
}

export interface Customer360 {
  customer: CustomerProfile;
  contacts: CustomerContact[];
  /** The current consent of each channel (null: never asked). */
  consent: Record<ConsentChannel, ConsentEntry | null>;
  numbers: CustomerNumbers;
  attributeDefinitions: AttributeDefinition[];
  /** Whether the viewer may see internal ticket notes of every ticket (else only their team's). */
  canSeeAllTickets: boolean;
}

// Timeline -----------------------------------------------------------------------------------

/** The kinds of timeline items; a filter takes any of them. The merge helper adds 'merge'. */
export const TIMELINE_KINDS = [
  'order_placed',
  'order_status',
  'ticket_opened',
  'ticket_message',
  'csat',
  'loyalty',
  'tier',
  'profile',
  'consent',
  'note',
  'merge',
  'segment'
] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

/** Filter groups the screen shows, each a set of kinds. */
export const TIMELINE_GROUPS = {
  orders: ['order_placed', 'order_status'],
  support: ['ticket_opened', 'ticket_message', 'csat'],
  loyalty: ['loyalty', 'tier'],
  profile: ['profile', 'consent', 'merge', 'segment'],
  notes: ['note']
} as const satisfies Record<string, readonly TimelineKind[]>;

interface ItemBase {
  /** `<kind>:<source id>`, unique across the timeline. */
  key: string;
  at: string;
  /** Who did it, when a user did (null: the customer, the system, an import or psql). */
  actor: Person | null;
}

export type TimelineItem = ItemBase &
  (
    | {
        kind: 'order_placed';
        orderId: number;
        total: string;
        currency: string;
        channel: (typeof SALES_CHANNELS)[number];
        externalId: string | null;
      }
    | {
        kind: 'order_status';
        orderId: number;
        from: (typeof ORDER_STATUSES)[number];
        to: (typeof ORDER_STATUSES)[number];
        externalId: string | null;
        total: string;
        currency: string;
      }
    | { kind: 'ticket_opened'; ticketId: number; subject: string; status: (typeof TICKET_STATUSES)[number] }
    | {
        kind: 'ticket_message';
        ticketId: number;
        messageId: number;
        subject: string;
        authorType: (typeof MESSAGE_AUTHORS)[number];
        internal: boolean;
        body: string;
      }
    | { kind: 'csat'; ticketId: number; subject: string; score: number }
    | {
        kind: 'loyalty';
        entryId: number;
        entryKind: (typeof LOYALTY_ENTRY_KINDS)[number];
        points: number;
        reason: string;
        orderId: number | null;
        /** The ticket goodwill points were granted from (optional: older clients' items lack it). */
        goodwillTicketId?: number | null;
        /** For a bonus event's earning: which bonus (optional, as above). */
        bonus?: LoyaltyBonus | null;
      }
    | { kind: 'tier'; from: (typeof LOYALTY_TIERS)[number]; to: (typeof LOYALTY_TIERS)[number] }
    /** A field of the profile (`first_name`, `attributes.<key>`, `contacts.email`...) from old to new. */
    | { kind: 'profile'; field: string; old: unknown; new: unknown }
    | { kind: 'consent'; channel: ConsentChannel; granted: boolean; source: ConsentSource }
    | { kind: 'note'; noteId: number; body: string }
    | { kind: 'merge'; otherCustomerId: number; direction: 'absorbed' | 'merged_into'; summary: string }
    /** Entered or left a segment (its name as it was then). */
    | { kind: 'segment'; segmentId: number; segmentName: string; change: 'entered' | 'left' }
  );

export const TimelineQuery = z.object({
  /** Comma-separated kinds; all when absent. */
  kinds: z
    .string()
    .max(400)
    .optional()
    .transform((s, ctx) => {
      if (!s) return undefined;
      const list = s
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean);
      const unknown = list.filter((k) => !(TIMELINE_KINDS as readonly string[]).includes(k));
      if (unknown.length) {
        ctx.addIssue({ code: 'custom', message: `unknown kinds: ${unknown.join(', ')}` });
        return z.NEVER;
      }
      return list as TimelineKind[];
    }),
  /** The `next` cursor of the previous page. */
  before: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(30)
});

export interface TimelinePage {
  items: TimelineItem[];
  /** Pass as `before` for the next (older) page; null at the end. */
  next: string | null;
}

// Lists --------------------------------------------------------------------------------------

export const ListQuery = z.object({
  /** The id of the last row of the previous page. */
  before: z.coerce.number().int().min(1).max(2147483647).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25)
});

export interface CustomerOrderRow {
  id: number;
  orderDate: string;
  status: (typeof ORDER_STATUSES)[number];
  total: string;
  currency: string;
  channel: (typeof SALES_CHANNELS)[number];
  externalId: string | null;
  items: number;
  version: number;
  href: string;
}

export interface CustomerTicketRow {
  id: number;
  subject: string;
  status: (typeof TICKET_STATUSES)[number];
  priority: string;
  csatScore: number | null;
  createdAt: string;
  updatedAt: string;
  version: number;
  /** A link only when the viewer may open the ticket. */
  href: string | null;
}

export interface CustomerLoyaltyRow {
  id: number;
  kind: (typeof LOYALTY_ENTRY_KINDS)[number];
  points: number;
  reason: string;
  orderId: number | null;
  createdAt: string;
  orderHref: string | null;
  /** For a bonus event's earning: which bonus. */
  bonus?: LoyaltyBonus | null;
}

// Live ----------------------------------------------------------------------------------------
// What the customer's room receives besides orders, tickets, loyalty and the profile itself.

export interface OrderStatusChange {
  id: number;
  orderId: number;
  customerId: number;
  from: (typeof ORDER_STATUSES)[number];
  to: (typeof ORDER_STATUSES)[number];
  actorUserId: number | null;
  changedAt: string;
}

export interface TierChange {
  id: number;
  customerId: number;
  /** The ledger entry that moved the tier; null when the schedule did (a grace ended, a window moved). */
  entryId: number | null;
  from: (typeof LOYALTY_TIERS)[number];
  to: (typeof LOYALTY_TIERS)[number];
  changedAt: string;
}

export interface ProfileChange {
  id: number;
  customerId: number;
  field: string;
  old: unknown;
  new: unknown;
  actorUserId: number | null;
  at: string;
}

export interface ConsentRecord {
  id: number;
  customerId: number;
  channel: ConsentChannel;
  granted: boolean;
  at: string;
  source: ConsentSource;
  actorUserId: number | null;
  note: string;
}

export interface NoteRecord {
  id: number;
  customerId: number;
  authorId: number | null;
  body: string;
  createdAt: string;
}
