import { formatCount } from '$lib/format.js';

const DAY = 86_400_000;

/** "Today 14:05", "Yesterday", "3 Mar", "3 Mar 2024": a date in a dense table cell. */
export function formatDate(iso: string, now = Date.now()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const startOf = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((startOf(new Date(now)) - startOf(date)) / DAY);
  if (days === 0)
    return `Today ${date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}`;
  if (days === 1) return 'Yesterday';
  const sameYear = date.getFullYear() === new Date(now).getFullYear();
  return date.toLocaleDateString(undefined, {
    day: 'numeric',
    month: 'short',
    year: sameYear ? undefined : 'numeric'
  });
}

/** What a table counts, in the singular and the plural ("customer", "customers"). */
export interface Noun {
  one: string;
  many: string;
}

/** "1 customer", "1,234 customers". */
export const countOf = (n: number, noun: Noun) => `${formatCount(n)} ${n === 1 ? noun.one : noun.many}`;

/** A count from the table's summary: said as an estimate when the server could only estimate it. */
export const summaryCount = (n: number, noun: Noun, estimated: boolean | undefined) =>
  estimated ? `about ${countOf(n, noun)}` : countOf(n, noun);
