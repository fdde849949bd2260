/**
 * RFC 4180 CSV: a header row, then one line per row, CRLF line ends. Text a spreadsheet would run
 * as a formula (=, +, -, @ at the start) is quoted with a leading apostrophe.
 */
export function toCsv<T>(columns: { header: string; value: (row: T) => unknown }[], rows: T[]): string {
  const lines = [columns.map((c) => cell(c.header)).join(',')];
  for (const row of rows) lines.push(columns.map((c) => cell(c.value(row))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text) && !/^-?\d+(\.\d+)?$/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A file name for an export: pulse-<report>-<from>_<to>.csv */
export const csvFileName = (report: string, range: { from: string; to: string }) =>
  `pulse-${report}-${range.from}_${range.to}.csv`;
