import { STORE_CURRENCY } from '$lib/format.js';

// Formatting of analytics' own: compact axes and scores (the shared formatters are in $lib/format.ts).

/** Axis ticks: "$12k", "$1.2M". */
export function compactMoney(value: number): string {
  return new Intl.NumberFormat(undefined, {
    style: 'currency',
    currency: STORE_CURRENCY,
    notation: 'compact',
    maximumFractionDigits: 1
  }).format(value);
}

export function compactCount(value: number): string {
  return new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 }).format(value);
}

/** Durations on an axis, in hours ("4h", "0.5h"), or minutes below an hour. */
export function axisDuration(seconds: number): string {
  if (seconds === 0) return '0';
  if (seconds < 3600) return `${Math.round(seconds / 60)}m`;
  const hours = seconds / 3600;
  return `${hours >= 10 ? Math.round(hours) : Math.round(hours * 10) / 10}h`;
}

export function formatScore(value: number | null): string {
  return value === null ? '–' : `${value.toFixed(2)} / 5`;
}
