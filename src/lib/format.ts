// Formatters more than one screen shows: money, counts, percents, durations, times and names.
// Screen-specific ones stay with their screen (console/format.ts, wallboard/format.ts, analytics/format.ts).

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * The snapshot and the reports do not say which currency the store sells in; orders carry their
 * own and the demo store sells in US dollars. One place to change it.
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

export interface MoneyOptions {
  /** Null: the amount without a currency sign (an order list whose currency is unknown). */
  currency?: string | null;
  /** Drops the cents, so large amounts stay readable across a room. */
  whole?: boolean;
}

/** The cached format for money in a currency (its usual cents), or a plain two-decimal number. */
export function moneyFormat({
  currency = STORE_CURRENCY,
  whole = false
}: MoneyOptions = {}): Intl.NumberFormat {
  const digits = whole ? { minimumFractionDigits: 0, maximumFractionDigits: 0 } : {};
  return numberFormat(`money:${currency ?? ''}:${whole}`, () =>
    currency
      ? new Intl.NumberFormat(undefined, { style: 'currency', currency, ...digits })
      : new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2, ...digits })
  );
}

/**
 * Money from an exact decimal string ("129.90"), formatted without going through a float (Intl
 * formats a decimal string exactly; TypeScript's lib types lag behind).
 */
export function formatMoney(amount: string | number, opts: MoneyOptions = {}): string {
  return moneyFormat(opts).format(amount as unknown as number);
}

export function formatCount(value: number): string {
  return numberFormat('count', () => new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 })).format(
    value
  );
}

export function formatPercent(value: number | null, digits = 1): string {
  return value === null ? '–' : `${value.toFixed(digits)}%`;
}

/** "45s", "12m 05s", "3h 12m", "2d 4h"; `compact` drops a zero second part ("30m"). */
export function durationParts(totalSeconds: number, compact = false): ValuePart[] {
  const s = Math.max(0, Math.round(totalSeconds));
  const pad = (n: number) => String(n).padStart(2, '0');
  if (compact && s >= 60 && s < 3600 && s % 60 === 0)
    return [{ text: String(s / 60) }, { text: 'm', unit: true }];
  if (compact && s >= 3600 && s < 86_400 && s % 3600 === 0)
    return [{ text: String(s / 3600) }, { text: 'h', unit: true }];
  if (s < 60) return [{ text: String(s) }, { text: 's', unit: true }];
  if (s < 3600)
    return [
      { text: String(Math.floor(s / 60)) },
      { text: 'm ', unit: true },
      { text: pad(s % 60) },
      { text: 's', unit: true }
    ];
  if (s < 86_400)
    return [
      { text: String(Math.floor(s / 3600)) },
      { text: 'h ', unit: true },
      { text: pad(Math.floor((s % 3600) / 60)) },
      { text: 'm', unit: true }
    ];
  return [
    { text: String(Math.floor(s / 86_400)) },
    { text: 'd ', unit: true },
    { text: String(Math.floor((s % 86_400) / 3600)) },
    { text: 'h', unit: true }
  ];
}

export function formatDuration(seconds: number | null): string {
  return seconds === null
    ? '–'
    : durationParts(seconds)
        .map((p) => p.text)
        .join('');
}

/** "2 minutes ago" style, for tooltips and the thread. */
export function formatRelative(iso: string, now: number): string {
  const ms = Date.parse(iso) - now;
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  const abs = Math.abs(ms);
  if (abs < MINUTE) return 'just now';
  if (abs < HOUR) return rtf.format(Math.round(ms / MINUTE), 'minute');
  if (abs < DAY) return rtf.format(Math.round(ms / HOUR), 'hour');
  if (abs < 30 * DAY) return rtf.format(Math.round(ms / DAY), 'day');
  return new Date(iso).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
}

/** A calendar date (YYYY-MM-DD, a day with no time zone) as people read it: "15 Jun 1990". */
export function formatCalendarDate(ymd: string): string {
  return new Date(`${ymd}T00:00:00Z`).toLocaleDateString(undefined, {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    timeZone: 'UTC'
  });
}

export function formatDateTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, {
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit'
  });
}

export function formatTime(iso: string): string {
  return new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

export function firstNameOf(name: string): string {
  return name.trim().split(/\s+/)[0] ?? name;
}

/** "Bea", "Bea and Sam", "Bea, Sam and 2 others". */
export function listNames(names: string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  if (names.length === 2) return `${names[0]} and ${names[1]}`;
  if (names.length === 3) return `${names[0]}, ${names[1]} and ${names[2]}`;
  return `${names[0]}, ${names[1]} and ${names.length - 2} others`;
}
