import { z } from 'zod';
import { LOYALTY_ENTRY_KINDS, ORDER_STATUSES, TICKET_STATUSES } from '../enums.js';
import { STOCK_MOVEMENT_KINDS, STOCK_STATES } from '../rules/stock.js';
import { Money } from './live.js';

// Orders, products, stock and reviews: the order page, the product page and the reviews search.

const isoDate = z.string();

/** A keyset cursor as the API hands it out (opaque to clients); a bad one is a 400. */
export const Cursor = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9_-]+$/);

// Products ---------------------------------------------------------------------------------------

export const ProductSummary = z.object({
  id: z.number().int(),
  sku: z.string(),
  name: z.string(),
  price: Money,
  stock: z.number().int(),
  lowStockThreshold: z.number().int(),
  stockState: z.enum(STOCK_STATES),
  active: z.boolean(),
  categoryId: z.number().int().nullable(),
  version: z.number().int()
});
export type ProductSummary = z.infer<typeof ProductSummary>;

export const StockMovement = z.object({
  id: z.number().int(),
  productId: z.number().int(),
  kind: z.enum(STOCK_MOVEMENT_KINDS),
  quantity: z.number().int(),
  reason: z.string(),
  orderId: z.number().int().nullable(),
  actorUserId: z.number().int().nullable(),
  /** The person who made it, when a person did (null for orders and the opening). */
  actorName: z.string().nullable().optional(),
  at: isoDate
});
export type StockMovement = z.infer<typeof StockMovement>;

export interface SalesDay {
  /** UTC date, YYYY-MM-DD. */
  day: string;
  units: number;
  revenue: string;
}

export interface RatingSummary {
  count: number;
  /** Average rating with two decimals, null without reviews. */
  average: string | null;
  /** Reviews per rating, index 0 is one star. */
  histogram: [number, number, number, number, number];
}

export interface ProductDetail {
  product: ProductSummary & { description: string; category: string | null };
  movements: StockMovement[];
  nextMovementsCursor: string | null;
  /** Units and revenue per UTC day over the last 90 days, every day present. */
  sales: SalesDay[];
  rating: RatingSummary;
}

export const MovementsQuery = z.object({ cursor: Cursor.optional() });

export const StockMovementBody = z
  .object({
    kind: z.enum(['receive', 'adjust']),
    quantity: z
      .number()
      .int()
      .min(-1_000_000)
      .max(1_000_000)
      .refine((q) => q !== 0, 'must not be zero'),
    reason: z.string().trim().min(1).max(200)
  })
  .refine((b) => b.kind !== 'receive' || b.quantity > 0, {
    message: 'a receipt adds stock: quantity must be positive',
    path: ['quantity']
  });
export type StockMovementBody = z.infer<typeof StockMovementBody>;

export const ProductPatch = z
  .object({
    /** The version the change was made against: a newer one answers 409 stale_version. */
    version: z.number().int().positive(),
    lowStockThreshold: z.number().int().min(0).max(1_000_000).optional(),
    active: z.boolean().optional()
  })
  .refine((p) => p.lowStockThreshold !== undefined || p.active !== undefined, {
    message: 'nothing to change'
  });
export type ProductPatch = z.infer<typeof ProductPatch>;

// Reviews ----------------------------------------------------------------------------------------

export const REVIEW_SORTS = ['relevance', 'newest', 'lowest'] as const;

export const ReviewsQuery = z.object({
  q: z.string().trim().max(200).optional(),
  productId: z.coerce.number().int().positive().max(2_147_483_647).optional(),
  sort: z.enum(REVIEW_SORTS).optional(),
  cursor: Cursor.optional()
});
export type ReviewsQuery = z.infer<typeof ReviewsQuery>;

/** Text with the matched words marked: even items are plain, odd items matched (never HTML). */
export type Highlighted = string[];

export interface Review {
  id: number;
  productId: number;
  productName: string;
  customerId: number;
  customerName: string;
  rating: number;
  title: Highlighted;
  body: Highlighted;
  createdAt: string;
  /** Orders of the reviewer the text mentions ("#1234" or the order's number). */
  orders: { id: number; externalId: string | null }[];
}

export interface ReviewPage {
  reviews: Review[];
  nextCursor: string | null;
  /** The product's rating summary when the query names a product. */
  rating?: RatingSummary;
}

// Orders -----------------------------------------------------------------------------------------

export interface OrderDetail {
  order: {
    id: number;
    status: (typeof ORDER_STATUSES)[number];
    orderDate: string;
    total: string;
    subtotal: string;
    currency: string;
    channel: string;
    externalId: string | null;
    version: number;
    updatedAt: string;
  };
  items: {
    id: number;
    productId: number;
    sku: string;
    name: string;
    quantity: number;
    unitPrice: string;
    lineTotal: string;
    /** Units this item took off the shelf and brought back (stock movements). */
    sold: number;
    returned: number;
  }[];
  customer: {
    id: number;
    name: string;
    email: string;
    tier: string | null;
    pointsBalance: number | null;
  };
  /** Status changes, oldest first; the first entry is the order being placed. */
  statusHistory: { from: string | null; to: string; at: string }[];
  /** Tickets naming this order that the user may see. */
  tickets: { id: number; subject: string; status: (typeof TICKET_STATUSES)[number]; updatedAt: string }[];
  /** Open tickets of the customer the user works, for agents refunding from a ticket. */
  actionTickets: { id: number; subject: string }[];
  loyalty: {
    entries: {
      id: number;
      kind: (typeof LOYALTY_ENTRY_KINDS)[number];
      points: number;
      reason: string;
      createdAt: string;
    }[];
    earned: number;
    redeemed: number;
    reversed: number;
  };
  /** What the user may do to the order now (the rules of changeOrder). */
  actions: { refund: boolean; cancel: boolean; needsTicket: boolean };
}
