import { z } from 'zod';
import { LOYALTY_TIERS } from '../enums.js';
import { Money } from './live.js';

// The loyalty program's configuration, versioned: a manager edits a draft and publishes it with
// an effective date; published versions never change and every ledger entry names the version
// that produced it (loyalty_program_versions, migration 0026). The database reads the same JSON
// (earn rate, pending period, expiry), so a field renamed here must be renamed there too.

const isoDate = z.string();

/** How tiers are qualified for. `points_lifetime` is the rule Pulse had before programs were configurable. */
export const LOYALTY_TIER_BASES = ['points_lifetime', 'spend_12m', 'points_12m'] as const;
export type LoyaltyTierBasis = (typeof LOYALTY_TIER_BASES)[number];

export const LOYALTY_REWARD_KINDS = [
  'fixed_discount',
  'percent_discount',
  'free_shipping',
  'gift_product'
] as const;
export type LoyaltyRewardKind = (typeof LOYALTY_REWARD_KINDS)[number];

export const LOYALTY_EXPIRY_MODES = ['after_earn', 'after_inactivity'] as const;
export type LoyaltyExpiryMode = (typeof LOYALTY_EXPIRY_MODES)[number];

export const LOYALTY_PROGRAM_STATUSES = ['draft', 'published'] as const;
export type LoyaltyProgramStatus = (typeof LOYALTY_PROGRAM_STATUSES)[number];

/** A multiplier of points: 1 earns the base rate, 2 doubles it, 0 earns nothing. */
const Multiplier = z.number().min(0).max(100);
const Id = z.number().int().positive();

export const EarnRules = z.object({
  /** Points per whole currency unit of an order's total (1 = a point per dollar). Fractions allowed. */
  pointsPerUnit: z.number().min(0).max(1000),
  /** Multiplies the points of an order's lines in a category (the highest applicable multiplier wins). */
  categoryMultipliers: z.array(z.object({ categoryId: Id, multiplier: Multiplier })).max(200),
  /** Multiplies the points of an order's lines of a product; a product multiplier beats a category one. */
  productMultipliers: z.array(z.object({ productId: Id, multiplier: Multiplier })).max(500),
  /** One-off points for events; 0 turns a bonus off. */
  bonuses: z.object({
    signUp: z.number().int().min(0).max(1_000_000),
    birthday: z.number().int().min(0).max(1_000_000),
    firstReview: z.number().int().min(0).max(1_000_000)
  })
});
export type EarnRules = z.infer<typeof EarnRules>;

export const TierLevel = z.object({
  tier: z.enum(LOYALTY_TIERS),
  /** What members see, e.g. "Gold Club". */
  name: z.string().trim().min(1).max(40),
  /** The qualifying amount on the program's basis: points, or whole currency units of spend. */
  threshold: z.number().int().min(0).max(100_000_000),
  /** Multiplies the points a member of this tier earns on orders. */
  multiplier: Multiplier,
  perks: z.array(z.string().trim().min(1).max(120)).max(10)
});
export type TierLevel = z.infer<typeof TierLevel>;

export const TierRules = z
  .object({
    basis: z.enum(LOYALTY_TIER_BASES),
    /** Exactly the four tiers, lowest first, bronze at 0, thresholds rising. */
    levels: z.array(TierLevel).length(LOYALTY_TIERS.length)
  })
  .superRefine((tiers, ctx) => {
    tiers.levels.forEach((level, i) => {
      if (level.tier !== LOYALTY_TIERS[i])
        ctx.addIssue({
          code: 'custom',
          path: ['levels', i, 'tier'],
          message: `Tier ${i + 1} must be ${LOYALTY_TIERS[i]}`
        });
      if (i === 0 && level.threshold !== 0)
        ctx.addIssue({
          code: 'custom',
          path: ['levels', 0, 'threshold'],
          message: 'The first tier starts at 0'
        });
      if (i > 0 && level.threshold <= tiers.levels[i - 1].threshold)
        ctx.addIssue({
          code: 'custom',
          path: ['levels', i, 'threshold'],
          message: 'Each tier needs more than the one below'
        });
    });
  });
export type TierRules = z.infer<typeof TierRules>;

const RewardBase = z.object({
  /** Stable id within the program, kept across versions (a slug: lower case, digits, dashes). */
  id: z
    .string()
    .min(1)
    .max(40)
    .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/),
  name: z.string().trim().min(1).max(80),
  pointCost: z.number().int().positive().max(10_000_000),
  active: z.boolean()
});

export const Reward = z.discriminatedUnion('kind', [
  RewardBase.extend({ kind: z.literal('fixed_discount'), amount: Money }),
  RewardBase.extend({ kind: z.literal('percent_discount'), percent: z.number().int().min(1).max(100) }),
  RewardBase.extend({ kind: z.literal('free_shipping') }),
  RewardBase.extend({ kind: z.literal('gift_product'), productId: Id })
]);
export type Reward = z.infer<typeof Reward>;

export const ExpiryRule = z.object({
  /** after_earn: each lot expires `months` after it was earned; after_inactivity: all of a member's points
   * expire `months` after their last earn or redemption. */
  mode: z.enum(LOYALTY_EXPIRY_MODES),
  months: z.number().int().min(1).max(120)
});
export type ExpiryRule = z.infer<typeof ExpiryRule>;

export const ProgramConfig = z
  .object({
    earn: EarnRules,
    tiers: TierRules,
    rewards: z.array(Reward).max(100),
    /** The return window: points earned on an order stay pending this long (fractions of a day allowed). */
    pendingDays: z.number().min(0).max(365),
    /** null: points never expire. */
    expiry: ExpiryRule.nullable(),
    /** The most goodwill points an agent may grant from one ticket (0: agents grant none). */
    goodwillLimitPerTicket: z.number().int().min(0).max(1_000_000),
    /** A member whose tier a new version lowers keeps the old tier this many days. */
    tierDropGraceDays: z.number().int().min(0).max(365),
    /** What one point is worth when redeemed, in currency units (e.g. "0.01"): the liability's rate. */
    pointValue: z.string().regex(/^\d{1,6}(\.\d{1,4})?$/)
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.rewards.forEach((reward, i) => {
      if (seen.has(reward.id))
        ctx.addIssue({ code: 'custom', path: ['rewards', i, 'id'], message: 'Reward ids are unique' });
      seen.add(reward.id);
    });
  });
export type ProgramConfig = z.infer<typeof ProgramConfig>;

export const ProgramVersion = z.object({
  id: z.number().int(),
  /** 1, 2, 3 ... in the order versions were created. */
  version: z.number().int(),
  status: z.enum(LOYALTY_PROGRAM_STATUSES),
  /** When a published version takes effect (null for a draft). */
  effectiveAt: isoDate.nullable(),
  publishedAt: isoDate.nullable(),
  /** The user who published it (null for a draft, or the version Pulse started with). */
  publishedBy: z.number().int().nullable(),
  config: ProgramConfig,
  createdAt: isoDate
});
export type ProgramVersion = z.infer<typeof ProgramVersion>;

/** Saving the draft (there is at most one). */
export const SaveDraftInput = z.object({ config: ProgramConfig });
export type SaveDraftInput = z.infer<typeof SaveDraftInput>;

/** Publishing the draft: effective now when effectiveAt is absent. */
export const PublishInput = z.object({ effectiveAt: z.iso.datetime({ offset: true }).optional() });
export type PublishInput = z.infer<typeof PublishInput>;

/** The program Pulse started with: a point per dollar, tiers on lifetime points, 100 points a dollar. */
export const STARTING_PROGRAM: ProgramConfig = {
  earn: {
    pointsPerUnit: 1,
    categoryMultipliers: [],
    productMultipliers: [],
    bonuses: { signUp: 0, birthday: 0, firstReview: 0 }
  },
  tiers: {
    basis: 'points_lifetime',
    levels: [
      { tier: 'bronze', name: 'Bronze', threshold: 0, multiplier: 1, perks: [] },
      { tier: 'silver', name: 'Silver', threshold: 2000, multiplier: 1, perks: [] },
      { tier: 'gold', name: 'Gold', threshold: 8000, multiplier: 1, perks: [] },
      { tier: 'platinum', name: 'Platinum', threshold: 20000, multiplier: 1, perks: [] }
    ]
  },
  rewards: [
    {
      id: 'voucher-5',
      name: '$5 voucher',
      kind: 'fixed_discount',
      amount: '5.00',
      pointCost: 500,
      active: true
    },
    {
      id: 'voucher-10',
      name: '$10 voucher',
      kind: 'fixed_discount',
      amount: '10.00',
      pointCost: 1000,
      active: true
    },
    {
      id: 'voucher-25',
      name: '$25 voucher',
      kind: 'fixed_discount',
      amount: '25.00',
      pointCost: 2500,
      active: true
    },
    {
      id: 'voucher-50',
      name: '$50 voucher',
      kind: 'fixed_discount',
      amount: '50.00',
      pointCost: 5000,
      active: true
    }
  ],
  pendingDays: 0,
  expiry: null,
  goodwillLimitPerTicket: 500,
  tierDropGraceDays: 30,
  pointValue: '0.01'
};
