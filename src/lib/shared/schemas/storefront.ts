import { z } from 'zod';
import { ORDER_STATUSES } from '../enums.js';

// Storefront webhooks: stores (the shops that send orders), their deliveries, and the generic
// signed order feed (`POST /api/ingest/orders`).

export const STORE_PLATFORMS = ['shopify', 'woocommerce', 'generic'] as const;
export type StorePlatform = (typeof STORE_PLATFORMS)[number];

export const DELIVERY_STATES = ['pending', 'processed', 'ignored', 'failed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** A shop's domain as the platform names it (`example.myshopify.com`), lower-cased. */
const shopDomain = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9.-]{1,253}$/, 'a host name such as example.myshopify.com');

export const CreateStoreBody = z.object({
  name: z.string().trim().min(1).max(80),
  platform: z.enum(STORE_PLATFORMS),
  /** Absent: deliveries of any shop of the platform whose signature verifies with the secret. */
  shopDomain: shopDomain.optional(),
  /** The platform's signing secret, pasted; absent: Pulse generates one (shown once). */
  secret: z.string().trim().min(16).max(200).optional()
});
export type CreateStoreBody = z.input<typeof CreateStoreBody>;

export const StorePatch = z
  .object({ name: z.string().trim().min(1).max(80), enabled: z.boolean() })
  .partial()
  .refine((p) => Object.keys(p).length > 0, 'nothing to change');

export const StoreDeliveriesQuery = z.object({
  state: z.enum(DELIVERY_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50)
});

export const StoreDeliveryParam = z.object({
  id: z.coerce.number().int().positive().max(2_147_483_647),
  deliveryId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER)
});

export interface Store {
  id: number;
  name: string;
  platform: StorePlatform;
  shopDomain: string | null;
  /** `env`: configured by SHOPIFY_WEBHOOK_SECRET / WOOCOMMERCE_WEBHOOK_SECRET, not editable here. */
  source: 'admin' | 'env';
  enabled: boolean;
  /** The last four characters of the secret, to tell secrets apart; the secret itself is never returned. */
  secretHint: string;
  /** Where the platform sends its webhooks (relative to Pulse's address). */
  endpoint: string;
  createdAt: string;
  deliveries: { total: number; pending: number; failed: number; lastReceivedAt: string | null };
}

export interface CreatedStore {
  store: Store;
  /** Shown once. */
  secret: string;
}

export interface StoreDelivery {
  id: number;
  storeId: number;
  deliveryKey: string;
  topic: string;
  state: DeliveryState;
  attempts: number;
  receivedAt: string;
  processedAt: string | null;
  nextAttemptAt: string | null;
  result: string | null;
  error: string | null;
  orderId: number | null;
}

const decimal = z
  .string()
  .regex(/^\d{1,10}(\.\d{1,2})?$/, 'a decimal amount such as "129.90"')
  .describe('Decimal amount as a string');

/**
 * The generic order feed's body: one order in the source's words. `id` is the source's order id
 * (`generic:<store>:<id>` in Pulse); `updatedAt` orders deliveries, an older one changes nothing.
 */
export const GenericOrder = z.object({
  id: z.string().trim().min(1).max(80),
  status: z.enum(ORDER_STATUSES),
  total: decimal,
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .default('USD'),
  createdAt: z.iso.datetime({ offset: true }).optional(),
  updatedAt: z.iso.datetime({ offset: true }),
  customer: z.object({
    email: z.email().max(254),
    firstName: z.string().trim().max(80).optional(),
    lastName: z.string().trim().max(80).optional(),
    phone: z.string().trim().max(24).optional()
  }),
  items: z
    .array(
      z.object({
        sku: z.string().trim().min(1).max(32),
        name: z.string().trim().max(200).optional(),
        quantity: z.number().int().min(1).max(10_000),
        unitPrice: decimal
      })
    )
    .max(500)
    .default([]),
  /** Discount codes the order used (a reward's or a campaign's code is then marked used by it). */
  discountCodes: z.array(z.string().trim().min(1).max(100)).max(20).optional()
});
export type GenericOrder = z.infer<typeof GenericOrder>;

/**
 * What the ingest routes answer once the delivery is stored (it is applied right after). A replay
 * gets the first answer again, with the header `Idempotent-Replayed: true`.
 */
export interface IngestReceipt {
  deliveryId: number;
  receivedAt: string;
}
