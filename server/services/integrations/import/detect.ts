import iconv from 'iconv-lite';
import type { ImportDelimiter, ImportEncoding, ImportFormat } from '#shared/schemas/imports.js';
import { IMPORT_DELIMITERS } from '#shared/schemas/imports.js';

// What a file is, guessed from its first bytes: the encoding (a BOM, or whether the bytes are
// valid UTF-8; anything else is taken as Windows-1252, what spreadsheets on Windows write), the
// format (a JSON array, one JSON object a line, or delimited text), the delimiter (the candidate
// that splits the first lines most consistently) and whether the first row names the columns.

/** Bytes read to guess. */
export const SAMPLE_BYTES = 64 * 1024;

export interface Detected {
  format: ImportFormat;
  encoding: ImportEncoding;
  delimiter: ImportDelimiter;
  header: boolean;
}

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Whether `bytes` is valid UTF-8, allowing a character cut at the end of the sample. */
export function isUtf8(bytes: Buffer): boolean {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    decoder.decode(bytes, { stream: true });
    return true;
  } catch {
    return false;
  }
}

export function decodeSample(sample: Buffer, encoding: ImportEncoding): string {
  const text = encoding === 'utf-8' ? sample.toString('utf8') : iconv.decode(sample, 'win1252');
  return text.replace(/^\ufeff/, '');
}

export function detect(sample: Buffer): Detected {
  const encoding: ImportEncoding =
    sample.subarray(0, 3).equals(UTF8_BOM) || isUtf8(sample) ? 'utf-8' : 'windows-1252';
  const text = decodeSample(sample, encoding);
  const first = text.trimStart()[0];
  const format: ImportFormat = first === '[' ? 'json' : first === '{' ? 'ndjson' : 'csv';
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  // The last line of a sample may be cut short.
  const sampleLines = lines.length > 1 && sample.length >= SAMPLE_BYTES ? lines.slice(0, -1) : lines;
  const delimiter = guessDelimiter(sampleLines.slice(0, 20));
  return {
    format,
    encoding,
    delimiter,
    header: format === 'csv' ? looksLikeHeader(sampleLines, delimiter) : true
  };
}

/** Fields of a line outside quotes, for counting only (the real parsing is csv-parse's). */
function countOutsideQuotes(line: string, delimiter: string): number {
  let count = 0;
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (ch === delimiter && !quoted) count++;
  }
  return count;
}

function guessDelimiter(lines: string[]): ImportDelimiter {
  let best: ImportDelimiter = ',';
  let bestScore = 0;
  for (const d of IMPORT_DELIMITERS) {
    const counts = lines.map((l) => countOutsideQuotes(l, d));
    if (counts.length === 0 || counts[0] === 0) continue;
    const same = counts.filter((c) => c === counts[0]).length / counts.length;
    // Consistent first, then more columns.
    const score = same * 100 + Math.min(counts[0], 50);
    if (score > bestScore) {
      best = d;
      bestScore = score;
    }
  }
  return best;
}

/**
 * A first row is a header when none of its cells looks like data (a number, a date, an email)
 * and the rows after it have some that do, or when every cell is a short name.
 */
function looksLikeHeader(lines: string[], delimiter: string): boolean {
  if (lines.length === 0) return true;
  const cells = (l: string) => l.split(delimiter).map((c) => c.trim().replace(/^"|"$/g, ''));
  const dataLike = (c: string) => /^[-+]?\d[\d.,]*$/.test(c) || /@/.test(c) || /^\d{4}-\d{2}-\d{2}/.test(c);
  const first = cells(lines[0]);
  if (first.some((c) => c === '' || dataLike(c))) return false;
  return first.every((c) => c.length <= 64);
}
