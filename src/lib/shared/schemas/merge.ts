import { z } from 'zod';

// Duplicates and merge: suggestions the database computes, dismissals, and the merge itself.

/** Why two customers look like one person (docs/decisions.md, "Merging customers"). */
export const DUPLICATE_REASONS = ['email', 'phone', 'name_postcode'] as const;
export type DuplicateReason = (typeof DUPLICATE_REASONS)[number];

/** Name similarity (pg_trgm, 0..1) from which the same postcode makes two customers a suggestion. */
export const NAME_SIMILARITY_THRESHOLD = 0.5;

/** What a duplicate suggestion shows of each customer. */
export const CustomerBrief = z.object({
  id: z.number().int(),
  firstName: z.string(),
  lastName: z.string(),
  email: z.string(),
  phone: z.string().nullable(),
  postcodes: z.array(z.string()),
  orders: z.number().int(),
  createdAt: z.string(),
  version: z.number().int()
});
export type CustomerBrief = z.infer<typeof CustomerBrief>;

export const DuplicateCandidate = z.object({
  customer: CustomerBrief,
  reasons: z.array(z.enum(DUPLICATE_REASONS)),
  /** 0..1, two decimals: 1 for the same email, phone 0.7 and up, a similar name at one postcode its similarity. */
  score: z.number()
});
export type DuplicateCandidate = z.infer<typeof DuplicateCandidate>;

export const DuplicatePair = z.object({
  a: CustomerBrief,
  b: CustomerBrief,
  reasons: z.array(z.enum(DUPLICATE_REASONS)),
  score: z.number()
});
export type DuplicatePair = z.infer<typeof DuplicatePair>;

export const DuplicatesQuery = z.object({
  cursor: z
    .string()
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/)
    .optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25)
});

export const DuplicatesPage = z.object({ pairs: z.array(DuplicatePair), nextCursor: z.string().nullable() });
export type DuplicatesPage = z.infer<typeof DuplicatesPage>;

const customerId = z.number().int().positive().max(2_147_483_647);

export const DismissBody = z
  .object({ customerIds: z.array(customerId).min(2).max(2) })
  .refine((b) => b.customerIds[0] !== b.customerIds[1], { message: 'two different customers' });

const side = z.enum(['survivor', 'merged']);

/** Per field, whose value the survivor keeps; absent fields keep the survivor's (addresses: both). */
export const MergeChoices = z
  .object({
    email: side,
    phone: side,
    name: side,
    language: side,
    marketingConsent: side,
    addresses: z.enum(['survivor', 'merged', 'both'])
  })
  .partial()
  .strict();
export type MergeChoices = z.infer<typeof MergeChoices>;
export const MERGE_FIELDS = ['name', 'email', 'phone', 'language', 'marketingConsent', 'addresses'] as const;

export const MergeBody = z.object({
  mergedId: customerId,
  choices: MergeChoices.default({}),
  /** The versions the caller saw: a merge over an edit it did not see is refused (409). */
  expectedVersions: z.object({ survivor: z.number().int().min(1), merged: z.number().int().min(1) })
});

export const MergePreviewQuery = z.object({ with: z.coerce.number().int().positive().max(2_147_483_647) });

/** One side of the merge dialog: the fields to choose between and what would move. */
export const MergeSide = z.object({
  id: z.number().int(),
  firstName: z.string(),
  lastName: z.string(),
  email: z.string(),
  phone: z.string().nullable(),
  language: z.string(),
  marketingConsent: z.boolean(),
  addresses: z.array(z.record(z.string(), z.unknown())),
  tags: z.array(z.string()),
  notes: z.string(),
  version: z.number().int(),
  orders: z.number().int(),
  tickets: z.number().int(),
  reviews: z.number().int(),
  points: z.number().int(),
  loyaltyEntries: z.number().int()
});
export type MergeSide = z.infer<typeof MergeSide>;

export const MergePreview = z.object({
  survivor: MergeSide,
  merged: MergeSide,
  /** Products both reviewed: the newer review stays, the other is kept in the merge's snapshot. */
  reviewConflicts: z.number().int(),
  /** Repeated bonuses (sign-up, first review, a birthday's year) the merge takes back (0038). */
  bonusPointsTakenBack: z.number().int(),
  /** What the survivor's balance gains: the merged customer's points less those taken back. */
  pointsMoving: z.number().int()
});
export type MergePreview = z.infer<typeof MergePreview>;

export const MergeMoved = z.object({
  orders: z.number().int(),
  tickets: z.number().int(),
  reviews: z.number().int(),
  reviewsDropped: z.number().int(),
  loyaltyEntries: z.number().int(),
  /** The points the survivor gained: the merged balance less the repeated bonuses taken back. */
  points: z.number().int(),
  /** Repeated bonus points the merge took back (absent on merges recorded before it was counted). */
  bonusPointsTakenBack: z.number().int().optional()
});
export type MergeMoved = z.infer<typeof MergeMoved>;

/** A merge as the API and the live event present it. */
export const CustomerMerge = z.object({
  id: z.number().int(),
  survivorId: z.number().int(),
  mergedId: z.number().int(),
  mergedBy: z.number().int().nullable(),
  mergedAt: z.string(),
  moved: MergeMoved,
  /** The merged customer's name and email as they were. */
  mergedName: z.string(),
  mergedEmail: z.string()
});
export type CustomerMerge = z.infer<typeof CustomerMerge>;

/** Where a customer id points: itself, or the survivor it was merged into. */
export const CustomerResolution = z.object({ id: z.number().int(), mergedInto: z.number().int().nullable() });
export type CustomerResolution = z.infer<typeof CustomerResolution>;
