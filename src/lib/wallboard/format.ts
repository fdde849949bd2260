import type { MetricKind } from './metrics.js';

// Formatting for the wallboard's numbers: exact decimal strings for money, durations in seconds,
// and the trend against the same time yesterday.

/**
 * The snapshot does not say which currency the store sells in; orders carry their own and the
 * demo store sells in US dollars. One place to change it.
 */
export const STORE_CURRENCY = 'USD';

/** A piece of a displayed value: units ("m", "$", "/5") are drawn smaller than the digits. */
export interface ValuePart {
  text: string;
  unit?: boolean;
}

const formats = new Map<string, Intl.NumberFormat>();
function numberFormat(key: string, make: () => Intl.NumberFormat) {
  let format = formats.get(key);
  if (!format) formats.set(key, (format = make()));
  return format;
}

export const toNumber = (v: number | string | null | undefined): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * Money from an exact decimal string ("129.90"), formatted without going through a float. Large
 * amounts drop the cents (`whole`) so they stay readable across a room.
 */
export function moneyParts(amount: string | number, { whole = false, currency = STORE_CURRENCY } = {}): ValuePart[] {
  const format = numberFormat(`money:${currency}:${whole}`, () =>
    new Intl.NumberFormat(undefined, { style: 'currency', currency, maximumFractionDigits: whole ? 0 : 2, minimumFractionDigits: whole ? 0 : 2 })
  );
  // Intl formats a decimal string exactly (no binary rounding); TypeScript's lib types lag behind.
  return format.formatToParts(amount as unknown as number).map((p) => ({ text: p.value, unit: p.type === 'currency' }));
}

export function formatMoney(amount: string | number, opts: { whole?: boolean; currency?: string } = {}): string {
  return moneyParts(amount, opts)
    .map((p) => p.text)
    .join('');
}

export function formatCount(value: number): string {
  return numberFormat('count', () => new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 })).format(value);
}

/** "45s", "12m 05s", "3h 12m", "2d 4h"; `compact` drops a zero second part ("30m"). */
export function durationParts(totalSeconds: number, compact = false): ValuePart[] {
  const s = Math.max(0, Math.round(totalSeconds));
  const pad = (n: number) => String(n).padStart(2, '0');
  if (compact && s >= 60 && s < 3600 && s % 60 === 0) return [{ text: String(s / 60) }, { text: 'm', unit: true }];
  if (compact && s >= 3600 && s < 86_400 && s % 3600 === 0) return [{ text: String(s / 3600) }, { text: 'h', unit: true }];
  if (s < 60) return [{ text: String(s) }, { text: 's', unit: true }];
  if (s < 3600) return [{ text: String(Math.floor(s / 60)) }, { text: 'm ', unit: true }, { text: pad(s % 60) }, { text: 's', unit: true }];
  if (s < 86_400) return [{ text: String(Math.floor(s / 3600)) }, { text: 'h ', unit: true }, { text: pad(Math.floor((s % 3600) / 60)) }, { text: 'm', unit: true }];
  return [{ text: String(Math.floor(s / 86_400)) }, { text: 'd ', unit: true }, { text: String(Math.floor((s % 86_400) / 3600)) }, { text: 'h', unit: true }];
}

export function formatDuration(seconds: number | null): string {
  return seconds === null ? '–' : durationParts(seconds).map((p) => p.text).join('');
}

/** A metric's value as parts; `null` (no data yet, e.g. no CSAT answers today) is a dash. */
export function metricParts(kind: MetricKind, value: number | string | null): ValuePart[] {
  if (value === null) return [{ text: '–' }];
  switch (kind) {
    case 'money': {
      const whole = Math.abs(Number(value)) >= 10_000;
      return moneyParts(value, { whole });
    }
    case 'duration':
      return durationParts(Number(value));
    case 'score':
      return [{ text: Number(value).toFixed(1) }, { text: '/5', unit: true }];
    default:
      return [{ text: formatCount(Number(value)) }];
  }
}

export function formatMetric(kind: MetricKind, value: number | string | null): string {
  return metricParts(kind, value)
    .map((p) => p.text)
    .join('');
}

export interface Trend {
  direction: 'up' | 'down' | 'flat';
  /** Change in percent of yesterday's value; null when yesterday was zero. */
  percent: number | null;
  tone: 'good' | 'bad' | 'neutral';
  /** "▲ 12%", "▼ 3.5%", "▲ from 0", "= same". */
  text: string;
  /** For screen readers and tooltips: "up 12% on the same time yesterday (41)". */
  description: string;
}

/** The change against the same time yesterday; null when either side has no value. */
export function trendOf(kind: MetricKind, value: number | string | null, yesterday: number | string | null, upIsGood: boolean | null): Trend | null {
  const now = toNumber(value);
  const then = toNumber(yesterday);
  if (now === null || then === null) return null;
  const before = formatMetric(kind, yesterday);
  if (now === then) return { direction: 'flat', percent: 0, tone: 'neutral', text: '= same', description: `the same as this time yesterday (${before})` };
  const direction = now > then ? 'up' : 'down';
  const tone = upIsGood === null ? 'neutral' : (direction === 'up') === upIsGood ? 'good' : 'bad';
  const arrow = direction === 'up' ? '▲' : '▼';
  if (then === 0) return { direction, percent: null, tone, text: `${arrow} from 0`, description: `${direction} from 0 at this time yesterday` };
  const percent = ((now - then) / Math.abs(then)) * 100;
  const abs = Math.abs(percent);
  const shown = abs >= 999.5 ? '999+' : abs >= 10 ? abs.toFixed(0) : abs.toFixed(1);
  return { direction, percent, tone, text: `${arrow} ${shown}%`, description: `${direction} ${shown}% on this time yesterday (${before})` };
}

/** How close a value is to its threshold: `alert` past it (the server decides), `near` within 10%. */
export function thresholdState(
  value: number | string | null,
  threshold: { comparison: 'above' | 'below'; value: string } | null,
  alert: boolean
): 'alert' | 'near' | 'normal' {
  if (alert) return 'alert';
  const v = toNumber(value);
  if (!threshold || v === null) return 'normal';
  const limit = Number(threshold.value);
  if (threshold.comparison === 'above') return limit > 0 && v >= limit * 0.9 && v <= limit ? 'near' : 'normal';
  return v <= limit * 1.1 && v >= limit ? 'near' : 'normal';
}

/** "above 20", "below 4.0/5", "above 30m". */
export function thresholdText(kind: MetricKind, threshold: { comparison: 'above' | 'below'; value: string }): string {
  const value = Number(threshold.value);
  const shown =
    kind === 'duration'
      ? durationParts(value, true).map((p) => p.text).join('')
      : kind === 'money'
        ? formatMoney(threshold.value, { whole: Number.isInteger(value) })
        : kind === 'score'
          ? value.toFixed(1)
          : formatCount(value);
  return `${threshold.comparison} ${shown}`;
}
