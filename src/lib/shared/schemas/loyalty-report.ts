import { z } from 'zod';
import { LOYALTY_TIERS, type LoyaltyTier } from '../enums.js';
import type { LoyaltyEntry } from './live.js';

/** An exact decimal string, e.g. "129.90". */
type Money = string;

// The loyalty screen's reports: GET /api/loyalty-program/report/*. Points are integers; their
// value is money at the program's redemption rate (a decimal string).

/** How far back the activity chart looks: 30 days by day, 90 days by week, 365 days by month. */
export const ACTIVITY_SPANS = ['30', '90', '365'] as const;
export const ActivityQuery = z.object({ days: z.enum(ACTIVITY_SPANS).default('30') });
export type ActivityQuery = z.infer<typeof ActivityQuery>;

export const TopMembersQuery = z.object({ limit: z.coerce.number().int().min(1).max(50).default(10) });
export const RecentQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(25) });

export interface TierCount {
  tier: LoyaltyTier;
  members: number;
  /** Members in this tier 30 days ago (members who joined since are not counted then). */
  before: number;
}

export interface TierReport {
  tiers: TierCount[];
  members: number;
  /** Members who joined in the last 30 days. */
  joined: number;
  /** The moment "30 days ago" stands for (ISO). */
  since: string;
}

export interface TopMember {
  customerId: number;
  name: string;
  email: string;
  tier: LoyaltyTier;
  balance: number;
  lifetimePoints: number;
  /** A tier kept for a while after a program change lowered it (null: none). */
  grace: { tier: LoyaltyTier; until: string } | null;
}

export interface ActivityPoint {
  /** Start of the bucket (a date, YYYY-MM-DD). */
  bucket: string;
  issued: number;
  redeemed: number;
  expired: number;
}

export interface ActivityReport {
  bucket: 'day' | 'week' | 'month';
  points: ActivityPoint[];
  totals: { issued: number; redeemed: number; expired: number };
}

export interface ExpiringWindow {
  days: 30 | 60 | 90;
  points: number;
  value: Money;
}

export interface LiabilityReport {
  /** Spendable points held by members. */
  outstanding: number;
  outstandingValue: Money;
  /** Points earned but not yet spendable (the return window). */
  pending: number;
  pendingValue: Money;
  /** Spendable points that expire within 30, 60 and 90 days (each includes the shorter windows). */
  expiring: ExpiringWindow[];
  /** Money per point at the redemption rate the figures use. */
  pointValue: Money;
  /** How the figures were found: `lots` (open lots) or `fifo` (balances traced back to their earns). */
  method: 'lots' | 'fifo';
  /** Months after which points expire, under the program the figures use (null: never). */
  expiryMonths: number | null;
}

export type RecentEntry = LoyaltyEntry & { customerName: string };

export const TIER_ORDER: readonly LoyaltyTier[] = LOYALTY_TIERS;
