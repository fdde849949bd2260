import {
  BUCKET_MAX_DAYS,
  BUCKETS,
  defaultBucket,
  rangeDays,
  rangeProblem,
  type Bucket
} from '$shared/schemas/analytics.js';

// Date ranges for the analytics screen: calendar days of the store ("YYYY-MM-DD"), both ends included.

export const PRESETS = [
  { id: '7d', label: '7 days', long: 'Last 7 days' },
  { id: '30d', label: '30 days', long: 'Last 30 days' },
  { id: '90d', label: '90 days', long: 'Last 90 days' },
  { id: 'month', label: 'This month', long: 'This month' },
  { id: '12m', label: '12 months', long: 'Last 12 months' }
] as const;
export type PresetId = (typeof PRESETS)[number]['id'];

export interface DateRange {
  from: string;
  to: string;
}

const DAY = 86_400_000;
const asDate = (d: string) => new Date(`${d}T00:00:00Z`);
const iso = (d: Date) => d.toISOString().slice(0, 10);

export function addDays(day: string, days: number): string {
  return iso(new Date(asDate(day).getTime() + days * DAY));
}

/** Today's date where the store is. */
export function storeToday(timezone: string, now = Date.now()): string {
  // en-CA writes dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit'
  }).format(now);
}

export function presetRange(preset: PresetId, today: string): DateRange {
  switch (preset) {
    case '7d':
      return { from: addDays(today, -6), to: today };
    case '30d':
      return { from: addDays(today, -29), to: today };
    case '90d':
      return { from: addDays(today, -89), to: today };
    case 'month':
      return { from: `${today.slice(0, 8)}01`, to: today };
    case '12m': {
      // Twelve whole months: the first of the month eleven months ago through today.
      const d = asDate(`${today.slice(0, 8)}01`);
      d.setUTCMonth(d.getUTCMonth() - 11);
      return { from: iso(d), to: today };
    }
  }
}

export function isPreset(value: string | null): value is PresetId {
  return PRESETS.some((p) => p.id === value);
}

/** The buckets a range may be shown in (day buckets only up to ~3 months, ...). */
export function bucketsFor(range: DateRange): Bucket[] {
  const days = rangeDays(range.from, range.to);
  return BUCKETS.filter((b) => days <= BUCKET_MAX_DAYS[b]);
}

export function bucketFor(range: DateRange, asked: string | null): Bucket {
  const allowed = bucketsFor(range);
  return allowed.includes(asked as Bucket) ? (asked as Bucket) : defaultBucket(range.from, range.to);
}

export { rangeDays, rangeProblem };

const dayFormat = new Intl.DateTimeFormat(undefined, { timeZone: 'UTC', day: 'numeric', month: 'short' });
const dayYearFormat = new Intl.DateTimeFormat(undefined, {
  timeZone: 'UTC',
  day: 'numeric',
  month: 'short',
  year: 'numeric'
});
const monthFormat = new Intl.DateTimeFormat(undefined, { timeZone: 'UTC', month: 'short', year: 'numeric' });
const monthShortFormat = new Intl.DateTimeFormat(undefined, {
  timeZone: 'UTC',
  month: 'short',
  year: '2-digit'
});

/** "3 Oct – 1 Nov 2026". */
export function formatRange(range: DateRange): string {
  if (range.from === range.to) return dayYearFormat.format(asDate(range.from));
  const sameYear = range.from.slice(0, 4) === range.to.slice(0, 4);
  return `${(sameYear ? dayFormat : dayYearFormat).format(asDate(range.from))} – ${dayYearFormat.format(asDate(range.to))}`;
}

/** A bucket's label on an axis: "3 Oct" for days and weeks, "Oct 26" for months. */
export function bucketLabel(bucket: Bucket, start: string): string {
  return bucket === 'month' ? monthShortFormat.format(asDate(start)) : dayFormat.format(asDate(start));
}

/** A bucket's full name for a tooltip or a drill-down title. */
export function bucketTitle(bucket: Bucket, span: { bucket: string; from: string; to: string }): string {
  if (bucket === 'day') return dayYearFormat.format(asDate(span.from));
  if (bucket === 'month') return monthFormat.format(asDate(span.bucket));
  return `Week of ${formatRange({ from: span.from, to: span.to })}`;
}

/** "2026-01" as "Jan 2026". */
export function monthName(month: string): string {
  return monthFormat.format(asDate(`${month}-01`));
}

/** The first and last day of a "YYYY-MM" month, clipped to a range. */
export function monthSpan(month: string, within?: DateRange): DateRange {
  const start = asDate(`${month}-01`);
  const end = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 0));
  let range = { from: iso(start), to: iso(end) };
  if (within)
    range = {
      from: range.from < within.from ? within.from : range.from,
      to: range.to > within.to ? within.to : range.to
    };
  return range;
}
