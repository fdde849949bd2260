import { z } from 'zod';
import type { AgentStatus, TicketPriority } from '../enums.js';
import type { Money as MoneyString } from './live.js';

/** An exact decimal string, e.g. "129.90" (see `Money` in live.ts). */
export type Money = z.infer<typeof MoneyString>;

// The wallboard's contract: the snapshot (GET /api/wallboard and the `wallboard:updated` event),
// thresholds managers set, and read-only links for TVs.

/** Every tile a threshold can watch. Units: counts; Money strings; seconds; CSAT score 1-5; points. */
export const METRIC_KEYS = [
  'orders_today',
  'revenue_today',
  'average_order_value',
  'refunds_today',
  'refund_amount_today',
  'open_tickets',
  'unassigned',
  'waiting_on_agent',
  'sla_at_risk',
  'sla_breached',
  'first_response_median',
  'resolution_median',
  'csat_average',
  'csat_responses',
  'agents_online',
  'agents_busy',
  'points_issued',
  'points_redeemed',
  'new_members',
  'tier_upgrades'
] as const;
export type MetricKey = (typeof METRIC_KEYS)[number];

/** Tiles whose value is money (a Money string); a threshold on them is in the store's currency. */
export const MONEY_METRICS: readonly MetricKey[] = [
  'revenue_today',
  'average_order_value',
  'refund_amount_today'
];

/** A threshold value: a non-negative decimal with at most two places, as a string or a number. */
const Decimal = z
  .union([
    z.number().nonnegative().max(999_999_999_999),
    z
      .string()
      .trim()
      .regex(/^\d{1,12}(\.\d{1,2})?$/, 'a decimal like 20 or 1500.50')
  ])
  .transform((v, ctx) => {
    const text = typeof v === 'number' ? String(v) : v;
    if (!/^\d{1,12}(\.\d{1,2})?$/.test(text)) {
      ctx.addIssue({ code: 'custom', message: 'at most two decimal places' });
      return z.NEVER;
    }
    return text;
  });

export const ThresholdRule = z.object({
  metric: z.enum(METRIC_KEYS),
  /** `above`: alert when the value is greater than `value`; `below`: when it is less. */
  comparison: z.enum(['above', 'below']),
  value: Decimal
});
export type ThresholdInput = z.input<typeof ThresholdRule>;

/** PUT /api/wallboard/thresholds replaces the whole set (one rule per metric). */
export const ThresholdsBody = z.object({
  thresholds: z
    .array(ThresholdRule)
    .max(METRIC_KEYS.length)
    .refine((rules) => new Set(rules.map((r) => r.metric)).size === rules.length, {
      message: 'one threshold per metric'
    })
});

/** A threshold as the API presents it: `value` exactly as stored, e.g. "20.00". */
export interface Threshold {
  metric: MetricKey;
  comparison: 'above' | 'below';
  value: string;
  updatedAt: string;
  updatedBy: { id: number; name: string } | null;
}

/**
 * One number on the wallboard. `sameTimeYesterday` is the value at the same point of the previous
 * store day (sums over the day so far, or the state at that moment); null where history is not kept.
 */
export interface Tile<V> {
  key: MetricKey;
  value: V;
  sameTimeYesterday: V | null;
  /** The manager's threshold for this tile, if any, and whether the value crosses it. */
  threshold: { comparison: 'above' | 'below'; value: string } | null;
  alert: boolean;
}

export interface WallboardAgent {
  id: number;
  name: string;
  teamId: number | null;
  status: AgentStatus;
  capacity: number;
  /** Open tickets (new, open, pending) assigned to the agent. */
  openTickets: number;
  /** Tickets assigned to the agent resolved today. */
  resolvedToday: number;
  /** Median time to first response of the agent's tickets first answered today, in seconds. */
  firstResponseMedianSeconds: number | null;
}

export interface WallboardSnapshot {
  /** When this snapshot was computed (server clock, ISO). */
  generatedAt: string;
  /** The store's time zone and business day ("YYYY-MM-DD") the "today" numbers are about. */
  timezone: string;
  day: string;
  dayStartedAt: string;
  commerce: {
    ordersToday: Tile<number>;
    revenueToday: Tile<Money>;
    averageOrderValue: Tile<Money | null>;
    refundsToday: Tile<number>;
    refundAmountToday: Tile<Money>;
    /** The last 60 minutes, one bucket a minute, oldest first; the last bucket is the current minute. */
    perMinute: { from: string; orders: number[]; revenue: Money[] };
  };
  support: {
    openTickets: Tile<number>;
    unassigned: Tile<number>;
    waitingOnAgent: Tile<number>;
    slaAtRisk: Tile<number>;
    slaBreached: Tile<number>;
    firstResponseMedianSeconds: Tile<number | null>;
    resolutionMedianSeconds: Tile<number | null>;
    csatAverage: Tile<number | null>;
    csatResponses: Tile<number>;
    agentsOnline: Tile<number>;
    agentsBusy: Tile<number>;
    /** Open tickets by priority, now. */
    byPriority: Record<TicketPriority, number>;
    /** Open tickets every 15 minutes since the day started, and now. */
    backlog: { at: string; open: number }[];
  };
  loyalty: {
    pointsIssued: Tile<number>;
    pointsRedeemed: Tile<number>;
    newMembers: Tile<number>;
    tierUpgrades: Tile<number>;
  };
  agents: WallboardAgent[];
  /** The metrics currently in alert. */
  alerts: MetricKey[];
}

export const CreateWallboardTokenBody = z.object({ name: z.string().trim().min(1).max(80) });

export interface WallboardToken {
  id: number;
  name: string;
  createdAt: string;
  createdBy: { id: number; name: string } | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** POST /api/wallboard/tokens: the token itself is in this answer only; Pulse keeps its hash. */
export interface CreatedWallboardToken {
  token: WallboardToken;
  secret: string;
  /** The TV page's link, relative to Pulse's origin (`/tv?token=...`). */
  path: string;
}

export const WallboardQuery = z.object({ token: z.string().min(1).max(200).optional() });
