import { durationParts, formatCount, formatMoney, moneyFormat, type ValuePart } from '$lib/format.js';
import type { MetricKind } from './metrics.js';

export type { ValuePart };

// Formatting for the wallboard's numbers: exact decimal strings for money, durations in seconds,
// and the trend against the same time yesterday.

export const toNumber = (v: number | string | null | undefined): number | null =>
  v === null || v === undefined ? null : Number(v);

/**
 * Money from an exact decimal string ("129.90"), formatted without going through a float. Large
 * amounts drop the cents (`whole`) so they stay readable across a room.
 */
export function moneyParts(amount: string | number, { whole = false } = {}): ValuePart[] {
  // Intl formats a decimal string exactly (no binary rounding); TypeScript's lib types lag behind.
  return moneyFormat({ whole })
    .formatToParts(amount as unknown as number)
    .map((p) => ({ text: p.value, unit: p.type === 'currency' }));
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
export function trendOf(
  kind: MetricKind,
  value: number | string | null,
  yesterday: number | string | null,
  upIsGood: boolean | null
): Trend | null {
  const now = toNumber(value);
  const then = toNumber(yesterday);
  if (now === null || then === null) return null;
  const before = formatMetric(kind, yesterday);
  if (now === then)
    return {
      direction: 'flat',
      percent: 0,
      tone: 'neutral',
      text: '= same',
      description: `the same as this time yesterday (${before})`
    };
  const direction = now > then ? 'up' : 'down';
  const tone = upIsGood === null ? 'neutral' : (direction === 'up') === upIsGood ? 'good' : 'bad';
  const arrow = direction === 'up' ? '▲' : '▼';
  if (then === 0)
    return {
      direction,
      percent: null,
      tone,
      text: `${arrow} from 0`,
      description: `${direction} from 0 at this time yesterday`
    };
  const percent = ((now - then) / Math.abs(then)) * 100;
  const abs = Math.abs(percent);
  const shown = abs >= 999.5 ? '999+' : abs >= 10 ? abs.toFixed(0) : abs.toFixed(1);
  return {
    direction,
    percent,
    tone,
    text: `${arrow} ${shown}%`,
    description: `${direction} ${shown}% on this time yesterday (${before})`
  };
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
  if (threshold.comparison === 'above')
    return limit > 0 && v >= limit * 0.9 && v <= limit ? 'near' : 'normal';
  return v <= limit * 1.1 && v >= limit ? 'near' : 'normal';
}

/** "above 20", "below 4.0/5", "above 30m". */
export function thresholdText(
  kind: MetricKind,
  threshold: { comparison: 'above' | 'below'; value: string }
): string {
  const value = Number(threshold.value);
  const shown =
    kind === 'duration'
      ? durationParts(value, true)
          .map((p) => p.text)
          .join('')
      : kind === 'money'
        ? formatMoney(threshold.value, { whole: Number.isInteger(value) })
        : kind === 'score'
          ? value.toFixed(1)
          : formatCount(value);
  return `${threshold.comparison} ${shown}`;
}
