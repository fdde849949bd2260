// Money stays exact end to end: NUMERIC in SQL, decimal strings in JSON ("129.90"), integer
// hundredths in between. Never through float arithmetic.

/** An exact decimal (a NUMERIC from JSON or text) in hundredths. */
export function toHundredths(v: unknown): number {
  const text = typeof v === 'number' ? v.toFixed(2) : String(v).trim();
  const m = /^(-?)(\d+)(?:\.(\d{0,2})\d*)?$/.exec(text);
  if (!m) throw new Error(`not a decimal: ${text}`);
  const cents = Number(m[2]) * 100 + Number((m[3] ?? '').padEnd(2, '0'));
  return m[1] ? -cents : cents;
}

/** Hundredths as an exact two-place decimal string ("1234.50"). */
export function formatHundredths(value: number): string {
  const abs = Math.abs(value);
  return `${value < 0 ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** A NUMERIC as JSON sends it, exactly two places ("129.9" and 129.9 become "129.90"). */
export const money = (v: unknown) => formatHundredths(toHundredths(v));
