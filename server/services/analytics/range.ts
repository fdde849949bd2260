import {
  defaultBucket,
  rangeProblem,
  type Bucket,
  type BucketSpan,
  type ResolvedRange,
  type SeriesRange
} from '#shared/schemas/analytics.js';
import { AppError } from '../../errors.js';
import type { Db } from '../../data/db.js';

const DAY_MS = 86_400_000;
const toDate = (d: string) => Date.parse(`${d}T00:00:00Z`);
const fromDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);
export const addDays = (d: string, n: number) => fromDate(toDate(d) + n * DAY_MS);

/** Today's date in the store's time zone. */
export function storeToday(timezone: string, now = Date.now()): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit'
  }).format(now);
}

/** Fills in the defaults (the last 30 days up to today) and checks the limits. */
export function resolveRange(q: { from?: string; to?: string }, timezone: string): ResolvedRange {
  const to = q.to ?? (q.from ? addDays(q.from, 29) : storeToday(timezone));
  const from = q.from ?? addDays(to, -29);
  const problem = rangeProblem(from, to);
  if (problem) throw new AppError('validation_failed', `Invalid range: ${problem}`);
  return { from, to, timezone };
}

export function resolveSeries(
  q: { from?: string; to?: string; bucket?: Bucket },
  timezone: string
): SeriesRange {
  const range = resolveRange(q, timezone);
  const bucket = q.bucket ?? defaultBucket(range.from, range.to);
  const problem = rangeProblem(range.from, range.to, bucket);
  if (problem) throw new AppError('validation_failed', `Invalid range: ${problem}`);
  return { ...range, bucket };
}

/** The first day of the bucket a date falls in: itself, its week's Monday, its month's 1st. */
function bucketStart(d: string, bucket: Bucket): string {
  if (bucket === 'day') return d;
  if (bucket === 'month') return `${d.slice(0, 8)}01`;
  const weekday = (new Date(toDate(d)).getUTCDay() + 6) % 7; // Monday = 0
  return addDays(d, -weekday);
}

function nextBucket(start: string, bucket: Bucket): string {
  if (bucket === 'day') return addDays(start, 1);
  if (bucket === 'week') return addDays(start, 7);
  const [y, m] = start.split('-').map(Number);
  return fromDate(Date.UTC(y, m, 1));
}

/** The buckets of a range, in order, each clipped to the range. */
export function bucketsOf(range: SeriesRange): (BucketSpan & { whole: boolean })[] {
  const spans: (BucketSpan & { whole: boolean })[] = [];
  for (
    let start = bucketStart(range.from, range.bucket);
    start <= range.to;
    start = nextBucket(start, range.bucket)
  ) {
    const last = addDays(nextBucket(start, range.bucket), -1);
    const from = start < range.from ? range.from : start;
    const to = last > range.to ? range.to : last;
    spans.push({ bucket: start, from, to, whole: from === start && to === last });
  }
  return spans;
}

/** The first day of each month a range touches ("YYYY-MM-01"). */
export function monthsOf(from: string, to: string): string[] {
  const months: string[] = [];
  for (let m = bucketStart(from, 'month'); m <= to; m = nextBucket(m, 'month')) months.push(m);
  return months;
}

/** The instants a span of store days starts and ends at, [start, end). */
export async function instantsOf(
  db: Db,
  from: string,
  to: string,
  timezone: string
): Promise<{ start: Date; end: Date }> {
  const [row] = await db.query<{ start: Date; end: Date }>(
    `SELECT ($1::date::timestamp AT TIME ZONE $3) AS start, (($2::date + 1)::timestamp AT TIME ZONE $3) AS end`,
    [from, to, timezone]
  );
  return { start: new Date(row.start), end: new Date(row.end) };
}

/** Start instants of consecutive spans, and the end of the last (for width_bucket over timestamps). */
export async function boundariesOf(
  db: Db,
  spans: { from: string; to: string }[],
  timezone: string
): Promise<Date[]> {
  if (spans.length === 0) return [];
  const [row] = await db.query<{ bounds: Date[] }>(
    `SELECT array_agg(d::timestamp AT TIME ZONE $2 ORDER BY d) AS bounds FROM unnest($1::date[]) d`,
    [[...spans.map((s) => s.from), addDays(spans.at(-1)!.to, 1)], timezone]
  );
  return row.bounds.map((b) => new Date(b));
}
