import { stringify } from 'csv-stringify/sync';
import type { Rejected } from './pipeline.js';

// The failed rows as a CSV to fix and import again: the file's own columns (so the same mapping
// applies), then where the row was and why it failed (extra columns that an import ignores).

export const FAILED_ROW_COLUMNS = ['import_line', 'import_errors'];

export function failedRowsHeader(columns: string[]): string {
  return stringify([[...columns, ...FAILED_ROW_COLUMNS]]);
}

/** Lines of CSV for these rejects, one a rejected row (its reasons together). */
export function failedRowsCsv(
  columns: string[],
  rejects: Pick<Rejected, 'line' | 'column' | 'reason' | 'raw'>[]
): string {
  const byLine = new Map<number, { raw: unknown; reasons: string[] }>();
  for (const r of rejects) {
    const entry = byLine.get(r.line) ?? { raw: r.raw, reasons: [] };
    entry.reasons.push(r.column ? `${r.column}: ${r.reason}` : r.reason);
    byLine.set(r.line, entry);
  }
  const records = [...byLine.entries()].map(([line, { raw, reasons }]) => {
    const values = Array.isArray(raw)
      ? columns.map((_, i) => String(raw[i] ?? ''))
      : raw && typeof raw === 'object'
        ? columns.map((c) => cellText((raw as Record<string, unknown>)[c]))
        : columns.map(() => '');
    return [...values, String(line), reasons.join('; ')];
  });
  return records.length ? stringify(records) : '';
}

const cellText = (v: unknown) =>
  v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
