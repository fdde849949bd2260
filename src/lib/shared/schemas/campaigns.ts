import { z } from 'zod';
import type { Interval, WelchInterval } from '../rules/lift.js';

// Campaigns: a segment, an incentive, a window and a holdout. The report compares the treated
// members with the held-out ones (server/services/campaigns/README.md says which orders count).

export const CAMPAIGN_STATUSES = ['draft', 'scheduled', 'running', 'ended'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** The longest window: a campaign measures an effect, it is not a standing program. */
export const MAX_WINDOW_DAYS = 366;

const Name = z.string().trim().min(1).max(120);
const Instant = z.iso.datetime({ offset: true });

export const CampaignIncentive = z.discriminatedUnion('kind', [
  /** Bonus points for every treated member, one ledger entry each. */
  z.object({ kind: z.literal('points'), points: z.number().int().min(1).max(1_000_000) }),
  /** A unique discount code per treated member, standing for a reward of the program's catalogue. */
  z.object({
    kind: z.literal('code'),
    rewardId: z
      .string()
      .min(1)
      .max(40)
      .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/)
  })
]);
export type CampaignIncentive = z.infer<typeof CampaignIncentive>;

export const CreateCampaignBody = z
  .object({
    name: Name,
    segmentId: z.number().int().positive().max(2_147_483_647),
    incentive: CampaignIncentive,
    startsAt: Instant,
    endsAt: Instant,
    /** The share of members held out, in percent (1 to 50). */
    holdoutPercent: z.number().int().min(1).max(50)
  })
  .refine((b) => Date.parse(b.endsAt) > Date.parse(b.startsAt), {
    path: ['endsAt'],
    message: 'The window must end after it starts'
  })
  .refine((b) => Date.parse(b.endsAt) - Date.parse(b.startsAt) <= MAX_WINDOW_DAYS * 24 * 3600_000, {
    path: ['endsAt'],
    message: `A campaign runs at most ${MAX_WINDOW_DAYS} days`
  });
export type CreateCampaignBody = z.infer<typeof CreateCampaignBody>;

export const CampaignIdParam = z.object({ id: z.coerce.number().int().positive().max(2_147_483_647) });

/** The reward a code campaign hands out, as the catalogue described it when the campaign was made. */
export interface CampaignReward {
  id: string;
  name: string;
  kind: string;
  /** "5.00" off, 10 (%) off, or null for free shipping and gifts. */
  amount: string | null;
  percent: number | null;
}

/** A segment as the campaign form offers it. */
export interface CampaignSegment {
  id: number;
  name: string;
  memberCount: number | null;
}

export interface Campaign {
  id: number;
  name: string;
  segmentId: number;
  segmentName: string;
  incentive: { kind: 'points'; points: number } | { kind: 'code'; rewardId: string; reward: CampaignReward };
  startsAt: string;
  endsAt: string;
  holdoutPercent: number;
  status: CampaignStatus;
  launchedAt: string | null;
  createdAt: string;
  treated: number;
  heldOut: number;
}

/** One group's numbers inside the window. Money as exact decimal strings, per-member values as numbers. */
export interface CampaignArm {
  members: number;
  /** Members with at least one attributed order. */
  converted: number;
  orders: number;
  revenue: string;
  revenuePerMember: number;
  /** Points members earned on attributed activity inside the window (not the campaign's own bonus). */
  pointsPerMember: number;
  conversionRate: number;
  /** Codes handed out and redeemed (code campaigns; 0 for the holdout). */
  codesIssued: number;
  codesRedeemed: number;
  /** Bonus points the campaign gave (points campaigns; 0 for the holdout). */
  bonusPoints: number;
}

export interface CampaignSeriesPoint {
  at: string;
  /** Cumulative attributed revenue per member up to the end of the bucket. */
  treatment: number;
  holdout: number;
}

export interface CampaignReport {
  campaign: Campaign;
  /** When the numbers were computed (database clock). */
  asOf: string;
  treatment: CampaignArm;
  holdout: CampaignArm;
  lift: {
    /** Treatment minus holdout revenue per member, Welch's 95 % t-interval (null below 2 members a group). */
    revenuePerMember: WelchInterval | null;
    /** Treatment minus holdout conversion rate, Newcombe's 95 % hybrid score interval. */
    conversion: Interval | null;
    /** Relative lift of revenue per member, treatment over holdout - 1 (null when the holdout has none). */
    relativeRevenue: number | null;
  };
  series: { unit: 'hour' | 'day'; points: CampaignSeriesPoint[] };
}

/** The status of a campaign at `now`. */
export function campaignStatus(
  c: { launchedAt: string | null; startsAt: string; endsAt: string },
  now: number
) {
  if (!c.launchedAt) return 'draft' as const;
  if (now >= Date.parse(c.endsAt)) return 'ended' as const;
  if (now < Date.parse(c.startsAt)) return 'scheduled' as const;
  return 'running' as const;
}
