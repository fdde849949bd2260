import { z } from 'zod';
import { LOYALTY_TIERS } from '../enums.js';
import { DateValue, MAX_FILTER_VALUES, MAX_RELATIVE_DAYS, MoneyValue } from '../lists/fields.js';
import { RFM_SEGMENTS } from './analytics.js';

// A segment is a saved rule over customers: nested AND/OR groups of conditions, each a field, an
// operator and a typed value. The rule is data: the server validates it with these schemas and
// compiles it to parameterised SQL (server/services/segments/compile.ts); no value is ever spliced
// into SQL text. Membership is kept by the database (segment_members) and every entry and exit is
// a `segment:entered` / `segment:left` change on the change log.

/** A group inside a group inside the top group, no deeper (as the lists' filters). */
export const MAX_SEGMENT_DEPTH = 3;
export const MAX_SEGMENT_CONDITIONS = 40;

const days = z.number().int().min(0).max(MAX_RELATIVE_DAYS);
const positiveDays = z.number().int().min(1).max(MAX_RELATIVE_DAYS);
const finiteNumber = z.number().finite().min(-1e12).max(1e12);
const text = z.string().min(1).max(200);

// Operators ---------------------------------------------------------------------------------

export const NUMBER_OPERATORS = ['eq', 'gt', 'gte', 'lt', 'lte', 'between'] as const;
export type NumberOperator = (typeof NUMBER_OPERATORS)[number];
/**
 * Dates: relative ("within N days", "more than N days ago": these drift with time and are
 * reconciled periodically), absolute (before/after/between a date) or "never" (no such date).
 */
export const DATE_OPERATORS = ['in_last', 'not_in_last', 'before', 'after', 'between', 'is_empty'] as const;
export type DateOperator = (typeof DATE_OPERATORS)[number];
export const SET_OPERATORS = ['is_any_of', 'is_none_of'] as const;
export const TAG_OPERATORS = ['any', 'all', 'none'] as const;
export const BOUGHT_OPERATORS = ['any', 'all', 'none'] as const;

const numberCondition = <F extends string>(field: F, value: z.ZodType = finiteNumber) =>
  z.discriminatedUnion('operator', [
    z.object({ field: z.literal(field), operator: z.enum(['eq', 'gt', 'gte', 'lt', 'lte']), value }),
    z.object({ field: z.literal(field), operator: z.literal('between'), value: z.tuple([value, value]) })
  ]);

const dateCondition = <F extends string>(field: F) =>
  z.discriminatedUnion('operator', [
    z.object({ field: z.literal(field), operator: z.enum(['in_last', 'not_in_last']), value: days }),
    z.object({ field: z.literal(field), operator: z.enum(['before', 'after']), value: DateValue }),
    z.object({
      field: z.literal(field),
      operator: z.literal('between'),
      value: z.tuple([DateValue, DateValue])
    }),
    z.object({ field: z.literal(field), operator: z.literal('is_empty') })
  ]);

/** Money as exact decimal strings ("129.90"), never floats. */
const moneyCondition = <F extends string>(field: F) => numberCondition(field, MoneyValue);
/** A measure over the last `days` days (recent spend, recent orders). */
const recentCondition = <F extends string>(field: F, value: z.ZodType) =>
  z.discriminatedUnion('operator', [
    z.object({
      field: z.literal(field),
      days: positiveDays,
      operator: z.enum(['eq', 'gt', 'gte', 'lt', 'lte']),
      value
    }),
    z.object({
      field: z.literal(field),
      days: positiveDays,
      operator: z.literal('between'),
      value: z.tuple([value, value])
    })
  ]);

const setCondition = <F extends string, V extends z.ZodType>(field: F, item: V) =>
  z.object({
    field: z.literal(field),
    operator: z.enum(SET_OPERATORS),
    value: z.array(item).min(1).max(MAX_FILTER_VALUES)
  });

export const CONSENT_CHANNELS = ['email', 'sms', 'phone', 'push'] as const;
export const ATTRIBUTE_KEY = z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'an attribute key like "shoe_size"');

/** Custom attributes: the operator and value follow the attribute's definition's type (checked by the server). */
export const AttributeCondition = z.object({
  field: z.literal('attribute'),
  key: ATTRIBUTE_KEY,
  operator: z.enum([
    'is',
    'is_not',
    'contains',
    'eq',
    'gt',
    'gte',
    'lt',
    'lte',
    'before',
    'after',
    'is_any_of',
    'is_empty',
    'is_not_empty'
  ]),
  value: z.union([text, finiteNumber, z.boolean(), z.array(text).min(1).max(MAX_FILTER_VALUES)]).optional()
});

export const SegmentCondition = z.union([
  moneyCondition('lifetimeSpend'),
  recentCondition('recentSpend', MoneyValue),
  numberCondition('orderCount', z.number().int().min(0).max(1e9)),
  recentCondition('recentOrderCount', z.number().int().min(0).max(1e9)),
  moneyCondition('averageOrderValue'),
  dateCondition('firstOrderAt'),
  dateCondition('lastOrderAt'),
  dateCondition('createdAt'),
  /** Bought any / all / none of these products (ids), optionally within the last `days` days. */
  z.object({
    field: z.literal('productsBought'),
    operator: z.enum(BOUGHT_OPERATORS),
    value: z.array(z.number().int().min(1).max(2147483647)).min(1).max(MAX_FILTER_VALUES),
    days: positiveDays.optional()
  }),
  /** Bought any / all / none of these categories (ids), optionally within the last `days` days. */
  z.object({
    field: z.literal('categoriesBought'),
    operator: z.enum(BOUGHT_OPERATORS),
    value: z.array(z.number().int().min(1).max(2147483647)).min(1).max(MAX_FILTER_VALUES),
    days: positiveDays.optional()
  }),
  setCondition('rfm', z.enum(RFM_SEGMENTS)),
  setCondition('tier', z.enum(LOYALTY_TIERS)),
  numberCondition('points', z.number().int().min(-1e9).max(1e9)),
  /** Points that expire within the next `days` days. */
  z.object({
    field: z.literal('pointsExpiring'),
    days: positiveDays,
    operator: z.enum(['eq', 'gt', 'gte', 'lt', 'lte']),
    value: z.number().int().min(0).max(1e9)
  }),
  z.object({
    field: z.literal('tags'),
    operator: z.enum(TAG_OPERATORS),
    value: z.array(z.string().min(1).max(50)).min(1).max(MAX_FILTER_VALUES)
  }),
  setCondition('country', z.string().regex(/^[A-Z]{2}$/, 'an ISO country code like "DE"')),
  AttributeCondition,
  /** The current consent of a channel (its latest grant or withdrawal). */
  z.object({
    field: z.literal('consent'),
    channel: z.enum(CONSENT_CHANNELS),
    operator: z.literal('is'),
    value: z.boolean()
  }),
  z.object({ field: z.literal('openTicket'), operator: z.literal('is'), value: z.boolean() }),
  /** The support VIP rule (support_settings: a VIP tier or lifetime value over the threshold). */
  z.object({ field: z.literal('supportVip'), operator: z.literal('is'), value: z.boolean() }),
  /**
   * CSAT: `given` any rating, `low` a rating of `value` or less (1..5), `not_given` none;
   * optionally within the last `days` days.
   */
  z.discriminatedUnion('operator', [
    z.object({
      field: z.literal('csat'),
      operator: z.enum(['given', 'not_given']),
      days: positiveDays.optional()
    }),
    z.object({
      field: z.literal('csat'),
      operator: z.literal('low'),
      value: z.number().int().min(1).max(5),
      days: positiveDays.optional()
    })
  ])
]);
export type SegmentCondition = z.infer<typeof SegmentCondition>;
export type SegmentField = SegmentCondition['field'];

export interface SegmentGroup {
  op: 'and' | 'or';
  rules: (SegmentCondition | SegmentGroup)[];
}
export const isSegmentGroup = (node: SegmentCondition | SegmentGroup): node is SegmentGroup =>
  'rules' in node && Array.isArray((node as SegmentGroup).rules);

const GroupShape = z.object({
  op: z.enum(['and', 'or']),
  rules: z.array(z.unknown()).max(MAX_SEGMENT_CONDITIONS)
});

function checkNode(
  node: unknown,
  ctx: z.RefinementCtx,
  path: (string | number)[],
  depth: number,
  n: { c: number }
) {
  const group = GroupShape.safeParse(node);
  if (group.success) {
    if (depth > MAX_SEGMENT_DEPTH) {
      ctx.addIssue({ code: 'custom', path, message: `groups nest at most ${MAX_SEGMENT_DEPTH} deep` });
      return;
    }
    group.data.rules.forEach((child, i) => checkNode(child, ctx, [...path, 'rules', i], depth + 1, n));
    return;
  }
  if (++n.c > MAX_SEGMENT_CONDITIONS) {
    ctx.addIssue({ code: 'custom', path, message: `at most ${MAX_SEGMENT_CONDITIONS} conditions` });
    return;
  }
  const parsed = SegmentCondition.safeParse(node);
  if (!parsed.success) {
    const field = (node as { field?: unknown } | null)?.field;
    ctx.addIssue({
      code: 'custom',
      path,
      message:
        typeof field === 'string'
          ? `the condition on "${field}" is not valid: ${parsed.error.issues[0]?.message ?? 'check operator and value'}`
          : 'expected a condition {field, operator, value} or a group {op, rules}'
    });
  }
}

/** A rule tree: the top is always a group. */
export const SegmentRule = z.unknown().superRefine((node, ctx) => {
  if (!GroupShape.safeParse(node).success) {
    ctx.addIssue({ code: 'custom', message: 'the rule is a group {op: "and" | "or", rules: [...]}' });
    return;
  }
  checkNode(node, ctx, [], 1, { c: 0 });
}) as unknown as z.ZodType<SegmentGroup>;

// Segments ------------------------------------------------------------------------------------

export const SegmentName = z.string().trim().min(1).max(80);

export const SegmentInput = z.object({
  name: SegmentName,
  description: z.string().trim().max(500).default(''),
  rule: SegmentRule
});
export type SegmentInput = z.infer<typeof SegmentInput>;

export const SegmentPatch = z.object({
  name: SegmentName.optional(),
  description: z.string().trim().max(500).optional(),
  rule: SegmentRule.optional(),
  /** Optimistic concurrency: the version the editor started from. */
  version: z.number().int().min(1)
});
export type SegmentPatch = z.infer<typeof SegmentPatch>;

export const Segment = z.object({
  id: z.number().int(),
  name: z.string(),
  description: z.string(),
  rule: z.custom<SegmentGroup>(),
  /** Loyal, At risk, New this month, VIP: shipped with Pulse, editable but not deletable (null: made by a user). */
  builtIn: z.enum(['loyal', 'at_risk', 'new_this_month', 'vip']).nullable(),
  createdBy: z.number().int().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  version: z.number().int(),
  /** Members at `countedAt` (null before the first count). */
  memberCount: z.number().int().nullable(),
  countedAt: z.string().nullable()
});
export type Segment = z.infer<typeof Segment>;

/** A count and the moment the database answered it. */
export const SegmentCount = z.object({ count: z.number().int(), countedAt: z.string() });
export type SegmentCount = z.infer<typeof SegmentCount>;

export const SegmentMember = z.object({
  id: z.number().int(),
  name: z.string(),
  email: z.string(),
  country: z.string().nullable(),
  tier: z.enum(LOYALTY_TIERS).nullable(),
  lifetimeSpend: z.string(),
  orderCount: z.number().int(),
  lastOrderAt: z.string().nullable(),
  /** When they entered (members of a saved segment; null in a draft's preview). */
  enteredAt: z.string().nullable()
});
export type SegmentMember = z.infer<typeof SegmentMember>;

/** Body of POST /api/segments/count and /preview: a draft rule, not yet saved. */
export const SegmentDraft = z.object({ rule: SegmentRule });
export const SEGMENT_PREVIEW_SIZE = 25;

/** A membership change, as the change log carries it (`segment:entered` / `segment:left`). */
export const SegmentMembershipChange = z.object({
  id: z.number().int(),
  segmentId: z.number().int(),
  segmentName: z.string(),
  customerId: z.number().int(),
  change: z.enum(['entered', 'left']),
  at: z.string()
});
export type SegmentMembershipChange = z.infer<typeof SegmentMembershipChange>;

export const BUILT_IN_SEGMENTS = ['loyal', 'at_risk', 'new_this_month', 'vip'] as const;

/** GET /api/segments/:id/members: newest entries first; `before` is the previous page's `next`. */
export const SegmentMembersQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z_\d{1,10}$/, 'a cursor from the previous page')
    .optional()
});
