// Small formatters the console shares: durations, relative times, money, names.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "2d 4h", "3h 05m", "12:07" (under an hour the seconds tick). Sign is ignored. */
export function formatCountdown(ms: number): string {
  const abs = Math.abs(ms);
  if (abs >= DAY) {
    const d = Math.floor(abs / DAY);
    const h = Math.floor((abs % DAY) / HOUR);
    return h ? `${d}d ${h}h` : `${d}d`;
  }
  if (abs >= HOUR) {
    const h = Math.floor(abs / HOUR);
    const m = Math.floor((abs % HOUR) / MINUTE);
    return `${h}h ${String(m).padStart(2, '0')}m`;
  }
  const m = Math.floor(abs / MINUTE);
  const s = Math.floor((abs % MINUTE) / 1000);
  return `${m}:${String(s).padStart(2, '0')}`;
}

/** "now", "4m", "3h", "2d", then a short date: for dense rows. */
export function formatAgo(iso: string, now: number): string {
  const ms = now - Date.parse(iso);
  if (ms < MINUTE) return 'now';
  if (ms < HOUR) return `${Math.floor(ms / MINUTE)}m`;
  if (ms < DAY) return `${Math.floor(ms / HOUR)}h`;
  if (ms < 60 * DAY) return `${Math.floor(ms / DAY)}d`;
  return new Date(iso).toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
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

export function formatDateTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

export function formatTime(iso: string): string {
  return new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/** "Today", "Yesterday", "Mon 3 Nov": thread day separators. */
export function formatDay(iso: string, now: number): string {
  const day = new Date(iso);
  const today = new Date(now);
  const startOf = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const diff = Math.round((startOf(today) - startOf(day)) / DAY);
  if (diff === 0) return 'Today';
  if (diff === 1) return 'Yesterday';
  return day.toLocaleDateString(undefined, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: day.getFullYear() === today.getFullYear() ? undefined : 'numeric'
  });
}

const moneyFormats = new Map<string, Intl.NumberFormat>();

/** Money arrives as an exact decimal string ("129.90"); shown with its currency. */
export function formatMoney(amount: string, currency: string | null): string {
  const key = currency ?? '';
  let format = moneyFormats.get(key);
  if (!format) {
    format = currency
      ? new Intl.NumberFormat(undefined, { style: 'currency', currency })
      : new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    moneyFormats.set(key, format);
  }
  return format.format(Number(amount));
}

export function formatNumber(value: number): string {
  return value.toLocaleString();
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

/** The order's number as customers know it. */
export function orderNumber(order: { id: number; externalId: string | null }): string {
  return order.externalId ?? `#${order.id}`;
}
