import { z } from 'zod';
import { Money } from '../schemas/live.js';
import type { FieldDef } from './fields.js';
import { Highlights } from './highlight.js';
import { STOCK_STATES } from '../rules/stock.js';

// The products table: catalogue, stock and what reviewers think.

// Stock states are the inventory's rule (each product has its own low-stock threshold).
export { STOCK_STATES, type StockState } from '../rules/stock.js';

export const PRODUCT_FIELDS = [
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
    key: 'sku',
    label: 'SKU',
    type: 'text',
    sortable: true,
    filterable: true,
    defaultVisible: true,
    searchable: true
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
    key: 'category',
    label: 'Category',
    type: 'enum',
    sortable: true,
    filterable: true,
    defaultVisible: true,
    nullable: true
  },
  {
    key: 'price',
    label: 'Price',
    type: 'money',
    sortable: true,
    filterable: true,
    defaultVisible: true,
    align: 'end'
  },
  {
    key: 'stock',
    label: 'Stock',
    type: 'number',
    sortable: true,
    filterable: true,
    defaultVisible: true,
    align: 'end'
  },
  {
    key: 'stockState',
    label: 'Stock state',
    type: 'enum',
    options: STOCK_STATES,
    sortable: true,
    filterable: true,
    defaultVisible: true
  },
  { key: 'active', label: 'Active', type: 'boolean', sortable: true, filterable: true, defaultVisible: true },
  {
    key: 'ratingAvg',
    label: 'Rating',
    type: 'number',
    sortable: true,
    filterable: true,
    defaultVisible: true,
    align: 'end',
    nullable: true
  },
  {
    key: 'reviewCount',
    label: 'Reviews',
    type: 'number',
    sortable: true,
    filterable: true,
    defaultVisible: false,
    align: 'end'
  },
  {
    key: 'createdAt',
    label: 'Created',
    type: 'date',
    sortable: true,
    filterable: true,
    defaultVisible: false
  }
] as const satisfies readonly FieldDef[];

export type ProductField = (typeof PRODUCT_FIELDS)[number]['key'];

export const ProductRow = z.object({
  id: z.number().int(),
  version: z.number().int(),
  sku: z.string(),
  name: z.string(),
  categoryId: z.number().int().nullable(),
  /** The category's name; null for an uncategorised product. */
  category: z.string().nullable(),
  price: Money,
  stock: z.number().int(),
  stockState: z.enum(STOCK_STATES),
  active: z.boolean(),
  /** Average review rating with two decimals (1.00..5.00), null without reviews. */
  ratingAvg: z.number().nullable(),
  reviewCount: z.number().int(),
  createdAt: z.string(),
  highlights: Highlights.optional()
});
export type ProductRow = z.infer<typeof ProductRow>;
