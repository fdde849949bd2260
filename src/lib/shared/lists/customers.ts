import { z } from 'zod';
import { LOYALTY_TIERS } from '../enums.js';
import { Money } from '../schemas/live.js';
import type { FieldDef } from './fields.js';
import { Highlights } from './highlight.js';

// The customers table: the profile's columns and what the database keeps about each customer
// (spend, orders, tickets, loyalty) so every one of them sorts and filters at full size.

export const CUSTOMER_FIELDS = [
  {
    key: 'id',
    label: 'ID',
    type: 'number',
    sortable: true,
    filterable: true,
    defaultVisible: false,
    align: 'end'
  },
  {
    key: 'name',
    label: 'Name',
    type: 'text',
    sortable: true,
    filterable: true,
    defaultVisible: true,
    searchable: true
  },
  {
    key: 'email',
    label: 'Email',
    type: 'text',
    sortable: true,
    filterable: true,
    defaultVisible: true,
    searchable: true
  },
  {
    key: 'phone',
    label: 'Phone',
    type: 'text',
    sortable: true,
    filterable: true,
    defaultVisible: false,
    searchable: true,
    nullable: true
  },
  {
    key: 'country',
    label: 'Country',
    type: 'enum',
    sortable: true,
    filterable: true,
    defaultVisible: true,
    nullable: true
  },
  {
    key: 'tier',
    label: 'Tier',
    type: 'enum',
    options: LOYALTY_TIERS,
    sortable: true,
    filterable: true,
    defaultVisible: true,
    nullable: true
  },
  {
    key: 'points',
    label: 'Points',
    type: 'number',
    sortable: true,
    filterable: true,
    defaultVisible: false,
    align: 'end'
  },
  { key: 'tags', label: 'Tags', type: 'tags', sortable: false, filterable: true, defaultVisible: true },
  {
    key: 'marketingConsent',
    label: 'Marketing consent',
    type: 'boolean',
    sortable: true,
    filterable: true,
    defaultVisible: false
  },
  {
    key: 'lifetimeSpend',
    label: 'Lifetime spend',
    type: 'money',
    sortable: true,
    filterable: true,
    defaultVisible: true,
    align: 'end'
  },
  {
    key: 'orderCount',
    label: 'Orders',
    type: 'number',
    sortable: true,
    filterable: true,
    defaultVisible: true,
    align: 'end'
  },
  {
    key: 'lastOrderAt',
    label: 'Last order',
    type: 'date',
    sortable: true,
    filterable: true,
    defaultVisible: true,
    nullable: true
  },
  {
    key: 'hasOpenTicket',
    label: 'Open ticket',
    type: 'boolean',
    sortable: true,
    filterable: true,
    defaultVisible: false
  },
  {
    key: 'createdAt',
    label: 'Created',
    type: 'date',
    sortable: true,
    filterable: true,
    defaultVisible: false
  },
  /** Members of these segments (values are segment ids): the segment's "open in customers table". */
  {
    key: 'segment',
    label: 'Segment',
    type: 'enum',
    sortable: false,
    filterable: true,
    defaultVisible: false,
    column: false
  }
] as const satisfies readonly FieldDef[];

export type CustomerField = (typeof CUSTOMER_FIELDS)[number]['key'];

export const CustomerRow = z.object({
  id: z.number().int(),
  version: z.number().int(),
  /** First and last name joined with a space. */
  name: z.string(),
  email: z.string(),
  phone: z.string().nullable(),
  /** ISO 3166 code of the default address (else the first), null without an address. */
  country: z.string().nullable(),
  /** Null when the customer has no loyalty account. */
  tier: z.enum(LOYALTY_TIERS).nullable(),
  /** Loyalty balance; 0 without an account. */
  points: z.number().int(),
  tags: z.array(z.string()),
  marketingConsent: z.boolean(),
  /** Sum of totals of orders not cancelled or refunded, in the shop currency. */
  lifetimeSpend: Money,
  orderCount: z.number().int(),
  lastOrderAt: z.string().nullable(),
  /** A ticket in status new, open or pending. */
  hasOpenTicket: z.boolean(),
  createdAt: z.string(),
  highlights: Highlights.optional()
});
export type CustomerRow = z.infer<typeof CustomerRow>;
