import { z } from 'zod';

// API tokens and outbound webhooks: the contract of the admin screens, the CLI and the API.

/** What a token may be allowed to do; server/auth/scopes.ts maps every route to one of them. */
export const API_SCOPES = [
  'customers:read',
  'customers:write',
  'orders:read',
  'orders:write',
  'products:read',
  'products:write',
  'tickets:read',
  'tickets:write',
  'loyalty:read',
  'loyalty:write',
  'webhooks:manage'
] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** Secrets look like `pulse_` and 40 characters of base62. */
export const API_TOKEN_PREFIX = 'pulse_';

export const CreateApiTokenBody = z.object({
  name: z.string().trim().min(1).max(80),
  scopes: z
    .array(z.enum(API_SCOPES))
    .min(1)
    .max(API_SCOPES.length)
    .transform((s) => [...new Set(s)]),
  /** When it stops working; absent: never (until revoked). */
  expiresAt: z.iso
    .datetime({ offset: true })
    .refine((d) => Date.parse(d) > Date.now(), 'must be in the future')
    .optional()
});
export type CreateApiTokenBody = z.input<typeof CreateApiTokenBody>;

export interface ApiToken {
  id: number;
  name: string;
  /** The first characters of the secret, to tell tokens apart (`pulse_Ab3x…`). */
  prefix: string;
  scopes: ApiScope[];
  owner: { id: number; name: string } | null;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  lastUsedFrom: string | null;
  revokedAt: string | null;
}

export interface CreatedApiToken {
  token: ApiToken;
  /** Shown once; only its hash is stored. */
  secret: string;
}

/** Events a subscription can ask for, from the change log. */
export const WEBHOOK_EVENTS = [
  'order.created',
  'order.updated',
  'ticket.created',
  'ticket.updated',
  'ticket.message_added',
  'loyalty.changed',
  'customer.created',
  'customer.updated',
  'product.created',
  'product.updated',
  'segment.entered',
  'segment.left'
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

const WebhookUrl = z
  .string()
  .trim()
  .max(2000)
  .pipe(z.url({ protocol: /^https?$/, message: 'must be an http or https URL' }));

export const CreateWebhookBody = z.object({
  name: z.string().trim().min(1).max(80),
  url: WebhookUrl,
  events: z
    .array(z.enum(WEBHOOK_EVENTS))
    .min(1)
    .max(WEBHOOK_EVENTS.length)
    .transform((e) => [...new Set(e)])
});
export type CreateWebhookBody = z.input<typeof CreateWebhookBody>;

export const WebhookPatch = z
  .object({
    name: z.string().trim().min(1).max(80),
    url: WebhookUrl,
    events: z
      .array(z.enum(WEBHOOK_EVENTS))
      .min(1)
      .max(WEBHOOK_EVENTS.length)
      .transform((e) => [...new Set(e)]),
    enabled: z.boolean()
  })
  .partial()
  .refine((t) => Object.keys(t).length > 0, { message: 'nothing to change' });
export type WebhookPatch = z.input<typeof WebhookPatch>;

export const DeliveriesQuery = z.object({
  state: z.enum(['pending', 'delivered', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50)
});

export const DeliveryParam = z.object({
  id: z.coerce.number().int().positive().max(2_147_483_647),
  deliveryId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER)
});

export interface WebhookSubscription {
  id: number;
  name: string;
  url: string;
  events: WebhookEvent[];
  enabled: boolean;
  disabledReason: string | null;
  consecutiveFailures: number;
  gapAt: string | null;
  createdAt: string;
  pending: number;
  lastDeliveryAt: string | null;
}

export interface CreatedWebhook {
  subscription: WebhookSubscription;
  /** The signing secret, shown once. */
  secret: string;
}

export interface WebhookAttempt {
  at: string;
  status: number | null;
  latencyMs: number;
  response: string | null;
  error: string | null;
}

export interface WebhookDelivery {
  id: number;
  event: WebhookEvent;
  entity: string;
  state: 'pending' | 'delivered' | 'failed';
  attempts: number;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastLatencyMs: number | null;
  lastResponse: string | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
  history: WebhookAttempt[];
}
