import { z } from 'zod';
import type { OrderStatus, SalesChannel, TicketPriority, TicketStatus } from '../enums.js';
import type { Money as MoneyString } from './live.js';

/** An exact decimal string, e.g. "129.90" (see `Money` in live.ts). */
export type Money = z.infer<typeof MoneyString>;

// Sales and support analytics: GET /api/analytics/*. Dates are the store's calendar days
// ("YYYY-MM-DD", STORE_TIMEZONE), both ends included. Every report answers `?format=csv` too.
// "Orders" and "revenue" count sales only: orders that are not cancelled or refunded.

export const BUCKETS = ['day', 'week', 'month'] as const;
export type Bucket = (typeof BUCKETS)[number];

/** Longest range a report covers (two years, leap day included). */
export const MAX_RANGE_DAYS = 731;
/** Finest bucket allowed per range length; by default the finest that fits is chosen. */
export const BUCKET_MAX_DAYS: Record<Bucket, number> = { day: 92, week: 366, month: MAX_RANGE_DAYS };
const DEFAULT_BUCKET_MAX_DAYS: Record<Bucket, number> = { day: 62, week: 183, month: MAX_RANGE_DAYS };

const DAY_MS = 86_400_000;
const calendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date like 2026-01-31')
  .refine(
    (d) =>
      !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d),
    'not a calendar date'
  );

/** Days from `from` to `to`, both included. */
export const rangeDays = (from: string, to: string) =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS) + 1;

/** What is wrong with a range, or null. Used by the schema and again once defaults are filled in. */
export function rangeProblem(from: string, to: string, bucket?: Bucket): string | null {
  const days = rangeDays(from, to);
  if (days < 1) return '`from` must not be after `to`';
  if (days > MAX_RANGE_DAYS) return `a range covers at most ${MAX_RANGE_DAYS} days`;
  if (bucket && days > BUCKET_MAX_DAYS[bucket])
    return `${bucket} buckets cover at most ${BUCKET_MAX_DAYS[bucket]} days; choose a coarser bucket`;
  return null;
}

/** The bucket a range gets when none is asked for: days up to two months, weeks up to six, then months. */
export function defaultBucket(from: string, to: string): Bucket {
  const days = rangeDays(from, to);
  return days <= DEFAULT_BUCKET_MAX_DAYS.day
    ? 'day'
    : days <= DEFAULT_BUCKET_MAX_DAYS.week
      ? 'week'
      : 'month';
}

const rangeShape = {
  /** Default: 29 days before `to`. */
  from: calendarDate.optional(),
  /** Default: today (the store's). */
  to: calendarDate.optional(),
  format: z.enum(['json', 'csv']).default('json')
};
const checkRange = (q: { from?: string; to?: string; bucket?: Bucket }, ctx: z.RefinementCtx) => {
  if (!q.from || !q.to) return;
  const problem = rangeProblem(q.from, q.to, q.bucket);
  if (problem) ctx.addIssue({ code: 'custom', message: problem, path: ['from'] });
};

export const RangeQuery = z.object(rangeShape).superRefine(checkRange);
export const SeriesQuery = z
  .object({ ...rangeShape, bucket: z.enum(BUCKETS).optional() })
  .superRefine(checkRange);
export const TopQuery = z
  .object({ ...rangeShape, limit: z.coerce.number().int().min(1).max(100).default(10) })
  .superRefine(checkRange);

const page = {
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(500).default(50)
};
const id = z.coerce.number().int().positive().max(2_147_483_647);

export const OrdersDrillQuery = z
  .object({ ...rangeShape, ...page, productId: id.optional(), categoryId: id.optional() })
  .superRefine(checkRange)
  .refine((q) => !(q.productId && q.categoryId), { message: 'productId or categoryId, not both' });

export const RFM_SEGMENTS = [
  'champions',
  'loyal',
  'promising',
  'needs_attention',
  'at_risk',
  'hibernating'
] as const;
export type RfmSegment = (typeof RFM_SEGMENTS)[number];
/** What each RFM segment is called on every screen and in every report. */
export const RFM_LABELS: Record<RfmSegment, string> = {
  champions: 'Champions',
  loyal: 'Loyal',
  promising: 'Promising',
  needs_attention: 'Needs attention',
  at_risk: 'At risk',
  hibernating: 'Hibernating'
};

const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month like 2026-01');
export const CUSTOMER_DRILLS = ['new', 'returning', 'active', 'cohort', 'segment'] as const;
export const CustomersDrillQuery = z
  .object({
    ...rangeShape,
    ...page,
    /**
     * new: first order in the range; returning: ordered in the range, first order before it;
     * active: ordered in the range; cohort: first order in `cohort`, ordered in `month`;
     * segment: the RFM segment over the range.
     */
    kind: z.enum(CUSTOMER_DRILLS),
    cohort: month.optional(),
    month: month.optional(),
    segment: z.enum(RFM_SEGMENTS).optional()
  })
  .superRefine(checkRange)
  .refine((q) => q.kind !== 'cohort' || (q.cohort && q.month && q.month >= q.cohort), {
    message: 'a cohort drill needs cohort and month (not before it)'
  })
  .refine((q) => q.kind !== 'segment' || q.segment, { message: 'a segment drill needs segment' });

export const TICKET_DRILLS = ['created', 'first_responded', 'resolved', 'csat'] as const;
export const TicketsDrillQuery = z
  .object({
    ...rangeShape,
    ...page,
    /** Which moment falls in the range: creation, first response, resolution, CSAT answer. */
    kind: z.enum(TICKET_DRILLS),
    /** first_responded / resolved only: tickets that met, or missed, their SLA target. */
    sla: z.enum(['met', 'missed']).optional()
  })
  .superRefine(checkRange)
  .refine((q) => !q.sla || q.kind === 'first_responded' || q.kind === 'resolved', {
    message: 'sla applies to first_responded and resolved'
  });

// Responses ----------------------------------------------------------------------------------

export interface ResolvedRange {
  from: string;
  to: string;
  timezone: string;
}

export interface SeriesRange extends ResolvedRange {
  bucket: Bucket;
}

/** A bucket: `bucket` is its natural start (the Monday, the 1st); from/to are clipped to the range. */
export interface BucketSpan {
  bucket: string;
  from: string;
  to: string;
}

export interface SalesPoint extends BucketSpan {
  orders: number;
  revenue: Money;
  /** Average order value; null without orders. */
  aov: Money | null;
  /** Customers whose first order (ever) is in the bucket. */
  newCustomers: number;
  /** Customers with an order in the bucket whose first order was before it. */
  returningCustomers: number;
}

export interface SalesReport {
  range: SeriesRange;
  points: SalesPoint[];
  totals: { orders: number; revenue: Money; aov: Money | null; newCustomers: number };
}

export interface TopProduct {
  productId: number;
  sku: string;
  name: string;
  categoryId: number | null;
  category: string | null;
  units: number;
  /** Orders containing the product. */
  orders: number;
  revenue: Money;
  /** Percent of the range's revenue. */
  share: number;
}

export interface TopCategory {
  categoryId: number | null;
  category: string;
  products: number;
  units: number;
  revenue: Money;
  share: number;
}

export interface TopProductsReport {
  range: ResolvedRange;
  revenue: Money;
  products: TopProduct[];
}

export interface TopCategoriesReport {
  range: ResolvedRange;
  revenue: Money;
  categories: TopCategory[];
}

export interface Cohort {
  /** "YYYY-MM": the month of the customers' first order. */
  cohort: string;
  customers: number;
  /** Month +0, +1, ... up to the range's last month: customers of the cohort who ordered then. */
  retention: { month: string; offset: number; customers: number; percent: number }[];
}

export interface CohortReport {
  /** Cohorts are whole months: the months of `from` through `to`. */
  range: ResolvedRange & { months: string[] };
  cohorts: Cohort[];
}

export interface RfmSegmentSummary {
  segment: RfmSegment;
  label: string;
  customers: number;
  orders: number;
  revenue: Money;
  /** Average days between a customer's last order in the range and the range's end. */
  averageRecencyDays: number | null;
}

export interface RfmReport {
  range: ResolvedRange;
  customers: number;
  revenue: Money;
  segments: RfmSegmentSummary[];
  /** Customers by recency score (5 = most recent) and frequency-monetary score (rounded mean of F and M). */
  grid: { r: number; fm: number; customers: number }[];
}

export interface SupportPoint extends BucketSpan {
  /** Tickets created in the bucket. */
  created: number;
  /** Of tickets first answered in the bucket. */
  firstResponseMedianSeconds: number | null;
  firstResponseSla: { met: number; total: number; percent: number | null };
  /** Of tickets resolved in the bucket. */
  resolutionMedianSeconds: number | null;
  resolutionSla: { met: number; total: number; percent: number | null };
  /** Of CSAT answers received in the bucket. */
  csatAverage: number | null;
  csatResponses: number;
}

export interface SupportReport {
  range: SeriesRange;
  points: SupportPoint[];
  totals: Omit<SupportPoint, keyof BucketSpan>;
}

export interface Paged {
  page: number;
  pageSize: number;
  pageCount: number;
}

export interface DrillOrder {
  id: number;
  orderDate: string;
  customerId: number;
  customerName: string;
  status: OrderStatus;
  channel: SalesChannel;
  total: Money;
  /** The part of the order the number is about: the whole total, or the product's/category's lines. */
  lineRevenue: Money;
}

export interface OrdersDrill extends Paged {
  range: ResolvedRange;
  orders: DrillOrder[];
  totals: { orders: number; revenue: Money };
}

export interface DrillCustomer {
  id: number;
  name: string;
  email: string;
  firstOrderAt: string | null;
  /** Orders and revenue in the range (a cohort drill: in `month`). */
  orders: number;
  revenue: Money;
  lastOrderAt: string | null;
  /** Segment drills: the RFM scores. */
  rfm?: { r: number; f: number; m: number };
}

export interface CustomersDrill extends Paged {
  range: ResolvedRange;
  customers: DrillCustomer[];
  totals: { customers: number; orders: number; revenue: Money };
}

export interface DrillTicket {
  id: number;
  subject: string;
  status: TicketStatus;
  priority: TicketPriority;
  teamId: number;
  assigneeId: number | null;
  createdAt: string;
  firstRespondedAt: string | null;
  resolvedAt: string | null;
  firstResponseSeconds: number | null;
  resolutionSeconds: number | null;
  csatScore: number | null;
}

export interface TicketsDrill extends Paged {
  range: ResolvedRange;
  tickets: DrillTicket[];
  totals: { tickets: number; csatAverage: number | null };
}
