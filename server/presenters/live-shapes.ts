import type {
  CustomerSummary,
  LoyaltyAccountSummary,
  LoyaltyEntry,
  OrderSummary,
  TicketMessage,
  TicketSummary
} from '#shared/schemas/live.js';

import type { CustomerMerge } from '#shared/schemas/merge.js';
import { money } from '#shared/rules/money.js';

// One presenter per shape, used by the API (from a model's plain attributes) and by the live path
// (from a change_log row, its keys camel-cased): a screen merges an event into what it loaded.

type Json = Record<string, unknown>;

/**
 * An instant as ISO 8601. Postgres also stores instants JavaScript cannot represent ('infinity',
 * '-infinity', past the year 275760; an import may write an SLA due 'infinity'): those are no
 * instant, null, rather than a RangeError that fails the whole queue.
 */
const iso = (v: unknown) => {
  const at = v == null ? NaN : v instanceof Date ? v.getTime() : Date.parse(String(v));
  return Number.isFinite(at) ? new Date(at).toISOString() : null;
};
const int = (v: unknown) => (v == null ? null : Number(v));

export function presentOrder(d: Json): OrderSummary {
  return {
    id: Number(d.id),
    customerId: Number(d.customerId),
    orderDate: iso(d.orderDate)!,
    status: d.status as OrderSummary['status'],
    total: money(d.total),
    currency: String(d.currency),
    channel: d.channel as OrderSummary['channel'],
    externalId: (d.externalId as string | null) ?? null,
    version: Number(d.version ?? 1)
  };
}

export function presentTicket(d: Json): TicketSummary {
  return {
    id: Number(d.id),
    customerId: Number(d.customerId),
    orderId: int(d.orderId),
    subject: String(d.subject),
    status: d.status as TicketSummary['status'],
    priority: d.priority as TicketSummary['priority'],
    channel: d.channel as TicketSummary['channel'],
    assigneeId: int(d.assigneeId),
    teamId: Number(d.teamId),
    tags: (d.tags as string[]) ?? [],
    firstResponseDueAt: iso(d.firstResponseDueAt),
    resolutionDueAt: iso(d.resolutionDueAt),
    firstRespondedAt: iso(d.firstRespondedAt),
    resolvedAt: iso(d.resolvedAt),
    csatScore: int(d.csatScore),
    lastMessageAt: iso(d.lastMessageAt)!,
    flagged: Boolean(d.flagged),
    assignedAt: iso(d.assignedAt),
    version: Number(d.version),
    createdAt: iso(d.createdAt)!,
    updatedAt: iso(d.updatedAt)!
  };
}

export function presentMessage(d: Json): TicketMessage {
  return {
    id: Number(d.id),
    ticketId: Number(d.ticketId),
    authorType: d.authorType as TicketMessage['authorType'],
    authorUserId: int(d.authorUserId),
    body: String(d.body),
    internal: Boolean(d.internal),
    createdAt: iso(d.createdAt)!
  };
}

export function presentLoyaltyAccount(d: Json): LoyaltyAccountSummary {
  return {
    id: Number(d.id),
    customerId: Number(d.customerId),
    balance: Number(d.balance),
    pending: Number(d.pending ?? 0),
    available: Number(d.balance) - Number(d.pending ?? 0),
    lifetimePoints: Number(d.lifetimePoints),
    tier: d.tier as LoyaltyAccountSummary['tier'],
    version: Number(d.version ?? 1)
  };
}

export function presentLoyaltyEntry(d: Json): LoyaltyEntry {
  return {
    id: Number(d.id),
    accountId: Number(d.accountId),
    customerId: Number(d.customerId),
    kind: d.kind as LoyaltyEntry['kind'],
    points: Number(d.points),
    reason: String(d.reason),
    orderId: int(d.orderId),
    ticketId: int(d.ticketId),
    bonus: (d.bonus as LoyaltyEntry['bonus']) ?? null,
    createdAt: iso(d.createdAt)!
  };
}

export function presentCustomer(d: Json): CustomerSummary {
  return {
    id: Number(d.id),
    email: String(d.email),
    firstName: String(d.firstName),
    lastName: String(d.lastName ?? ''),
    phone: (d.phone as string | null) ?? null,
    language: String(d.language ?? 'en'),
    tags: (d.tags as string[]) ?? [],
    marketingConsent: Boolean(d.marketingConsent),
    version: Number(d.version ?? 1),
    createdAt: iso(d.createdAt)!,
    updatedAt: iso(d.updatedAt)!
  };
}

/** A customer_merges row (camel-cased) as the `customer:merged` event carries it. */
export function presentMergeChange(d: Json): CustomerMerge {
  const merged = (d.snapshot as { merged?: Record<string, unknown> } | undefined)?.merged ?? {};
  return {
    id: Number(d.id),
    survivorId: Number(d.survivorId),
    mergedId: Number(d.mergedId),
    mergedBy: d.mergedBy === null || d.mergedBy === undefined ? null : Number(d.mergedBy),
    mergedAt: iso(d.mergedAt)!,
    moved: d.moved as CustomerMerge['moved'],
    mergedName: `${String(merged.first_name ?? '')} ${String(merged.last_name ?? '')}`.trim(),
    mergedEmail: String(merged.email ?? '')
  };
}
