import { z } from 'zod';
import { ORDER_STATUSES, SALES_CHANNELS } from '../enums.js';
import { Money } from '../schemas/live.js';
import type { FieldDef } from './fields.js';
import { Highlights } from './highlight.js';

// The orders table: the order, who placed it, and what happened to it since.

export const ORDER_FIELDS = [
  {
    key: 'id',
    label: 'Order',
    type: 'number',
    sortable: true,
    filterable: true,
    defaultVisible: true,
    align: 'end',
    searchable: true
  },
  {
    key: 'externalId',
    label: 'External number',
    type: 'text',
    sortable: true,
    filterable: true,
    defaultVisible: false,
    searchable: true,
    nullable: true
  },
  {
    key: 'customerName',
    label: 'Customer',
    type: 'text',
    sortable: true,
    filterable: true,
    defaultVisible: true,
    searchable: true
  },
  {
    key: 'customerEmail',
    label: 'Customer email',
    type: 'text',
    sortable: true,
    filterable: true,
    defaultVisible: false,
    searchable: true
  },
  {
    key: 'status',
    label: 'Status',
    type: 'enum',
    options: ORDER_STATUSES,
    sortable: true,
    filterable: true,
    defaultVisible: true
  },
  {
    key: 'channel',
    label: 'Channel',
    type: 'enum',
    options: SALES_CHANNELS,
    sortable: true,
    filterable: true,
    defaultVisible: true
  },
  {
    key: 'total',
    label: 'Total',
    type: 'money',
    sortable: true,
    filterable: true,
    defaultVisible: true,
    align: 'end'
  },
  {
    key: 'currency',
    label: 'Currency',
    type: 'enum',
    sortable: true,
    filterable: true,
    defaultVisible: false
  },
  { key: 'orderDate', label: 'Date', type: 'date', sortable: true, filterable: true, defaultVisible: true },
  {
    key: 'itemCount',
    label: 'Items',
    type: 'number',
    sortable: true,
    filterable: true,
    defaultVisible: true,
    align: 'end'
  },
  {
    key: 'hasTicket',
    label: 'Has ticket',
    type: 'boolean',
    sortable: true,
    filterable: true,
    defaultVisible: false
  },
  {
    key: 'refunded',
    label: 'Refunded',
    type: 'boolean',
    sortable: true,
    filterable: true,
    defaultVisible: false
  }
] as const satisfies readonly FieldDef[];

export type OrderField = (typeof ORDER_FIELDS)[number]['key'];

export const OrderRow = z.object({
  id: z.number().int(),
  version: z.number().int(),
  externalId: z.string().nullable(),
  customerId: z.number().int(),
  customerName: z.string(),
  customerEmail: z.string(),
  status: z.enum(ORDER_STATUSES),
  channel: z.enum(SALES_CHANNELS),
  total: Money,
  currency: z.string(),
  orderDate: z.string(),
  /** Sum of item quantities. */
  itemCount: z.number().int(),
  /** Some ticket refers to this order. */
  hasTicket: z.boolean(),
  /** The order's status is refunded. */
  refunded: z.boolean(),
  highlights: Highlights.optional()
});
export type OrderRow = z.infer<typeof OrderRow>;
