// SLA targets are stored in minutes; people think in minutes, hours or days.

export const DURATION_UNITS = ['minutes', 'hours', 'days'] as const;
export type DurationUnit = (typeof DURATION_UNITS)[number];

export const MINUTES_PER: Record<DurationUnit, number> = { minutes: 1, hours: 60, days: 1440 };

/** What a duration input holds: the number as typed and the unit it is in. */
export interface DurationDraft {
  amount: string;
  unit: DurationUnit;
}

/** The largest unit that shows `minutes` as a whole number (90 → 90 minutes, 120 → 2 hours). */
export function toDraft(minutes: number): DurationDraft {
  const unit =
    minutes % MINUTES_PER.days === 0 ? 'days' : minutes % MINUTES_PER.hours === 0 ? 'hours' : 'minutes';
  return { amount: String(minutes / MINUTES_PER[unit]), unit };
}

/**
 * Whole minutes for a draft, or null when the amount is not a positive number. Fractions are
 * allowed when they land on a whole minute (1.5 hours = 90 minutes).
 */
export function toMinutes(draft: DurationDraft): number | null {
  const text = draft.amount.trim().replace(',', '.');
  if (!/^\d+(\.\d+)?$/.test(text)) return null;
  const minutes = Number(text) * MINUTES_PER[draft.unit];
  return Number.isFinite(minutes) && minutes > 0 ? Math.round(minutes) : null;
}

/** Short and exact: 45 min, 4 h, 1 d 6 h, 2 d. */
export function formatMinutes(minutes: number): string {
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  const parts = [days && `${days} d`, hours && `${hours} h`, mins && `${mins} min`].filter(Boolean);
  return parts.length ? parts.join(' ') : '0 min';
}

/** The same, in words for a sentence or a screen reader: "1 day 6 hours". */
export function describeMinutes(minutes: number): string {
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  const word = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
  const parts = [
    days && word(days, 'day'),
    hours && word(hours, 'hour'),
    mins && word(mins, 'minute')
  ].filter(Boolean);
  return parts.length ? parts.join(' ') : '0 minutes';
}
