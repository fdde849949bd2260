import type { Random } from './random.js';

/** All seed times are whole seconds since the Unix epoch (UTC). */
export const MINUTE = 60;
export const HOUR = 3600;
export const DAY = 86_400;

// Shoppers buy in the evening, hardly at night.
const HOUR_WEIGHTS = [
  0.35, 0.22, 0.15, 0.1, 0.1, 0.15, 0.3, 0.5, 0.7, 0.85, 0.95, 1.0, 1.1, 1.05, 1.0, 1.0, 1.0, 1.05, 1.15, 1.3,
  1.4, 1.35, 1.0, 0.6
];
// Sunday .. Saturday: online sales peak on Sunday evening and Monday.
const WEEKDAY_WEIGHTS = [1.12, 1.08, 1.0, 0.98, 0.97, 0.9, 0.85];
// January .. December: a quiet late winter, a November/December peak.
const MONTH_WEIGHTS = [0.82, 0.8, 0.9, 0.92, 0.96, 0.93, 0.95, 0.98, 0.94, 1.0, 1.3, 1.45];
/** Relative growth of daily demand from the first to the last day of the window. */
const GROWTH = 0.2;

const HOUR_SHARE = normalise(HOUR_WEIGHTS);
const HOUR_CUMULATIVE = cumulate(HOUR_SHARE);

/**
 * Demand over the order window: a weight per day (trend, weekday, month, Black Friday...) and a
 * shape within the day. Maps moments to a cumulative-demand scale and back, so that sampling
 * uniformly on that scale gives realistic order times.
 */
export class SalesCalendar {
  private readonly weights: Float64Array;
  private readonly cumulative: Float64Array;
  readonly total: number;

  constructor(
    readonly start: number,
    readonly end: number
  ) {
    const days = Math.max(1, Math.ceil((end - start) / DAY));
    this.weights = new Float64Array(days);
    this.cumulative = new Float64Array(days + 1);
    for (let day = 0; day < days; day++) {
      this.weights[day] = dayWeight(start + day * DAY, day / days);
      this.cumulative[day + 1] = this.cumulative[day] + this.weights[day];
    }
    this.total = this.position(end);
  }

  /** Cumulative demand from the window start up to moment `t`. */
  position(t: number): number {
    const offset = Math.min(Math.max(t, this.start), this.end) - this.start;
    const day = Math.floor(offset / DAY);
    if (day >= this.weights.length) return this.cumulative[this.weights.length];
    return this.cumulative[day] + this.weights[day] * dayFraction(offset - day * DAY);
  }

  /** The moment at which cumulative demand reaches `position` (inverse of position()). */
  moment(position: number): number {
    let lo = 0;
    let hi = this.weights.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.cumulative[mid] <= position) lo = mid;
      else hi = mid - 1;
    }
    const fraction = Math.min(Math.max((position - this.cumulative[lo]) / this.weights[lo], 0), 0.999_999);
    return Math.min(this.start + lo * DAY + secondsIntoDay(fraction), this.end);
  }

  /** A moment in [from, to], more likely when demand is high. */
  between(rng: Random, from: number, to: number): number {
    const a = this.position(from);
    const b = this.position(to);
    const t = this.moment(a + (b - a) * rng.next());
    return Math.min(Math.max(t, from), to);
  }
}

function dayWeight(dayStart: number, progress: number): number {
  const date = new Date(dayStart * 1000);
  const month = date.getUTCMonth();
  const dayOfMonth = date.getUTCDate();
  let weight = (1 + GROWTH * progress) * WEEKDAY_WEIGHTS[date.getUTCDay()] * MONTH_WEIGHTS[month];
  if (month === 10) {
    const blackFriday = blackFridayOf(date.getUTCFullYear());
    if (dayOfMonth === blackFriday) weight *= 2.8;
    else if (dayOfMonth === blackFriday + 3)
      weight *= 2.3; // Cyber Monday
    else if (dayOfMonth > blackFriday && dayOfMonth < blackFriday + 3) weight *= 1.6;
    else if (dayOfMonth >= blackFriday - 6 && dayOfMonth < blackFriday) weight *= 1.2;
  } else if (month === 11) {
    if (dayOfMonth <= 18)
      weight *= 1.15; // gift shopping before shipping cut-off
    else if (dayOfMonth === 24) weight *= 0.7;
    else if (dayOfMonth === 25) weight *= 0.45;
  }
  return weight;
}

/** The day after the fourth Thursday of November. */
function blackFridayOf(year: number): number {
  const firstWeekday = new Date(Date.UTC(year, 10, 1)).getUTCDay();
  const firstThursday = 1 + ((4 - firstWeekday + 7) % 7);
  return firstThursday + 21 + 1;
}

function dayFraction(secondOfDay: number): number {
  const hour = Math.min(Math.floor(secondOfDay / HOUR), 23);
  return HOUR_CUMULATIVE[hour] + ((secondOfDay - hour * HOUR) / HOUR) * HOUR_SHARE[hour];
}

function secondsIntoDay(fraction: number): number {
  let hour = 0;
  while (hour < 23 && HOUR_CUMULATIVE[hour + 1] <= fraction) hour++;
  return hour * HOUR + Math.floor(((fraction - HOUR_CUMULATIVE[hour]) / HOUR_SHARE[hour]) * HOUR);
}

function normalise(weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / sum);
}

function cumulate(shares: number[]): number[] {
  const out = [0];
  for (const share of shares) out.push(out[out.length - 1] + share);
  return out;
}
