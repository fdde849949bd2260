import { z } from 'zod';
import { LOYALTY_BONUSES, LOYALTY_ENTRY_KINDS, LOYALTY_TIERS } from '../enums.js';
import { Reward } from './loyalty-program.js';

// A member's points as the API gives them: the balance split into available and pending, the open
// lots behind it, the ledger, rewards and their codes, the "expiring soon" list.

const isoDate = z.string();

/** A keyset cursor as the API hands it out (opaque to clients). */
const Cursor = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9_-]+$/);

export const LoyaltyLot = z.object({
  id: z.number().int(),
  /** The entry that opened the lot (an earning, an adjustment, goodwill). */
  entryId: z.number().int(),
  orderId: z.number().int().nullable(),
  points: z.number().int(),
  remaining: z.number().int(),
  earnedAt: isoDate,
  pending: z.boolean(),
  /** When a pending lot becomes spendable (null: it never was pending). */
  pendingUntil: isoDate.nullable(),
  /** When what remains expires under the program in effect (null: never). */
  expiresAt: isoDate.nullable()
});
export type LoyaltyLot = z.infer<typeof LoyaltyLot>;

export const LoyaltyAccountDetail = z.object({
  accountId: z.number().int(),
  customerId: z.number().int(),
  tier: z.enum(LOYALTY_TIERS),
  /** available + pending; the ledger's sum. */
  balance: z.number().int(),
  /** Spendable now. */
  available: z.number().int(),
  /** Earned on orders still inside the return window. */
  pending: z.number().int(),
  lifetimePoints: z.number().int(),
  /** Points that expire within 30 days. */
  expiringSoon: z.number().int(),
  joinedAt: isoDate,
  version: z.number().int(),
  /** Open lots, oldest first (the order redemptions spend them in). */
  lots: z.array(LoyaltyLot),
  /** What the program lets an agent grant from one ticket. */
  goodwillLimitPerTicket: z.number().int()
});
export type LoyaltyAccountDetail = z.infer<typeof LoyaltyAccountDetail>;

/** The one-off bonuses a program may give (EarnRules.bonuses), as the ledger names them. */
export { LOYALTY_BONUSES, type LoyaltyBonus } from '../enums.js';

export const LoyaltyLedgerRow = z.object({
  id: z.number().int(),
  kind: z.enum(LOYALTY_ENTRY_KINDS),
  points: z.number().int(),
  reason: z.string(),
  orderId: z.number().int().nullable(),
  ticketId: z.number().int().nullable(),
  reversesId: z.number().int().nullable(),
  programVersion: z.number().int(),
  /** For an earning on an order: still pending. */
  pending: z.boolean(),
  /** For a bonus event's earning: which bonus (loyalty_ledger.bonus, migration 0031). */
  bonus: z.enum(LOYALTY_BONUSES).nullable(),
  at: isoDate
});
export type LoyaltyLedgerRow = z.infer<typeof LoyaltyLedgerRow>;

export const LedgerQuery = z.object({
  cursor: Cursor.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50)
});
export type LedgerQuery = z.infer<typeof LedgerQuery>;

export interface LedgerPage {
  rows: LoyaltyLedgerRow[];
  nextCursor: string | null;
}

/** Idempotency-Key: the same key (per member and action) applies once; a retry gets the first answer. */
export const IdempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(100)
    .regex(/^[\x21-\x7e]+$/)
    .optional()
});

export const RedeemBody = z.object({ rewardId: z.string().min(1).max(40) });
export type RedeemBody = z.infer<typeof RedeemBody>;

export const AdjustBody = z.object({
  points: z
    .number()
    .int()
    .min(-1_000_000)
    .max(1_000_000)
    .refine((n) => n !== 0, 'An adjustment moves some points'),
  reason: z.string().trim().min(3).max(200)
});
export type AdjustBody = z.infer<typeof AdjustBody>;

export const GoodwillBody = z.object({
  ticketId: z.number().int().positive().max(2_147_483_647),
  points: z.number().int().min(1).max(1_000_000),
  reason: z.string().trim().min(3).max(200)
});
export type GoodwillBody = z.infer<typeof GoodwillBody>;

export const RewardCode = z.object({
  code: z.string(),
  rewardId: z.string(),
  reward: Reward,
  points: z.number().int(),
  entryId: z.number().int(),
  at: isoDate
});
export type RewardCode = z.infer<typeof RewardCode>;

export interface EntryResult {
  entry: LoyaltyLedgerRow;
  /** false when the Idempotency-Key had been used: nothing new was applied. */
  applied: boolean;
}

export const ExpiringQuery = z.object({
  days: z.coerce.number().int().min(1).max(365).default(30),
  cursor: Cursor.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50)
});
export type ExpiringQuery = z.infer<typeof ExpiringQuery>;

export const ExpiringRow = z.object({
  customerId: z.number().int(),
  name: z.string(),
  email: z.string().nullable(),
  tier: z.enum(LOYALTY_TIERS),
  points: z.number().int(),
  /** The soonest expiry among the member's expiring lots. */
  firstExpiresAt: isoDate
});
export type ExpiringRow = z.infer<typeof ExpiringRow>;

export interface ExpiringPage {
  rows: ExpiringRow[];
  /** Points expiring in the window across all members. */
  totalPoints: number;
  nextCursor: string | null;
}
