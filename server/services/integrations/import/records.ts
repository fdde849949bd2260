import { parse } from 'csv-parse';
import iconv from 'iconv-lite';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import streamArray from 'stream-json/streamers/stream-array.js';
import type { ImportOptions } from '#shared/schemas/imports.js';

// A file, streamed, as records: each with the line it starts on (a JSON array's element: its
// position), its values by column, and what it was (to write a failed row back out). Whatever
// cannot be read becomes a `bad` record with the reason; reading goes on after it where the format
// allows (a CSV record or an NDJSON line), and stops where it cannot (broken JSON in an array).

/** A record longer than this is refused (a 50 MB line is a broken file, not a customer). */
export const MAX_RECORD_BYTES = 1024 * 1024;

export type Values = Record<string, unknown>;
export type ReadItem =
  | { kind: 'row'; line: number; values: Values; raw: unknown }
  | { kind: 'bad'; line: number; reason: string; raw: unknown };

type ReadOptions = Pick<ImportOptions, 'format' | 'encoding' | 'delimiter' | 'header'>;

/** The decoded text of `input` (a UTF-8 BOM dropped; invalid UTF-8 becomes U+FFFD, caught per row). */
function decoded(input: Readable, encoding: ReadOptions['encoding']): Readable {
  const decoder = iconv.decodeStream(encoding === 'utf-8' ? 'utf8' : 'win1252') as unknown as Transform;
  input.on('error', (err) => decoder.destroy(err));
  return input.pipe(decoder);
}

export async function* readRecords(
  input: Readable,
  options: ReadOptions,
  onColumns: (columns: string[]) => void
): AsyncGenerator<ReadItem> {
  const text = decoded(input, options.encoding);
  if (options.format === 'csv') yield* readCsv(text, options, onColumns);
  else if (options.format === 'ndjson') yield* readNdjson(text, onColumns);
  else yield* readJsonArray(text, onColumns);
}

async function* readCsv(
  text: Readable,
  options: ReadOptions,
  onColumns: (columns: string[]) => void
): AsyncGenerator<ReadItem> {
  const skipped: ReadItem[] = [];
  // Over-long lines are taken out before parsing (csv-parse's own limit loses its place after one).
  const guard = new LongLineGuard((line) =>
    skipped.push({
      kind: 'bad',
      line,
      reason: `line longer than ${MAX_RECORD_BYTES / 1024 / 1024} MB`,
      raw: null
    })
  );
  const parser = parse({
    delimiter: options.delimiter,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    info: true,
    raw: true,
    on_skip: (err) => {
      const e = err as (Error & { lines?: number; code?: string }) | undefined;
      skipped.push({ kind: 'bad', line: e?.lines ?? 0, reason: csvReason(e), raw: null });
      return undefined;
    }
  });
  text.on('error', (err) => parser.destroy(err));
  guard.on('error', (err) => parser.destroy(err));
  text.pipe(guard).pipe(parser);
  let columns: string[] | null = null;
  for await (const { record, info } of parser as AsyncIterable<{
    record: string[];
    info: { lines: number };
  }>) {
    while (skipped.length) yield skipped.shift()!;
    // A record ends on `info.lines`; it starts as many lines earlier as its line breaks.
    const line = info.lines - countBreaks(record);
    if (!columns) {
      columns = options.header
        ? uniqueNames(record.map((c) => c.trim()))
        : record.map((_, i) => `Column ${i + 1}`);
      onColumns(columns);
      if (options.header) continue;
    }
    if (record.length > columns.length && record.slice(columns.length).some((v) => v.trim() !== '')) {
      yield {
        kind: 'bad',
        line,
        reason: `has ${record.length} fields, the header ${columns.length}`,
        raw: record
      };
      continue;
    }
    const values: Values = {};
    columns.forEach((c, i) => (values[c] = record[i] ?? ''));
    yield { kind: 'row', line, values, raw: record };
  }
  while (skipped.length) yield skipped.shift()!;
  if (!columns) onColumns([]);
}

/** Passes text through, with every line longer than MAX_RECORD_BYTES emptied (its line break kept). */
class LongLineGuard extends Transform {
  /** The current line so far (held until its end: at most MAX_RECORD_BYTES). */
  private pending = '';
  private line = 1;
  private dropping = false;
  constructor(private readonly onDropped: (line: number) => void) {
    super({ decodeStrings: false, encoding: 'utf8' });
  }
  override _transform(chunk: string, _enc: BufferEncoding, done: TransformCallback) {
    let out = '';
    let start = 0;
    for (let nl = chunk.indexOf('\n'); ; nl = chunk.indexOf('\n', start)) {
      const piece = chunk.slice(start, nl < 0 ? chunk.length : nl);
      if (!this.dropping) {
        this.pending += piece;
        if (this.pending.length > MAX_RECORD_BYTES) {
          this.dropping = true;
          this.pending = '';
          this.onDropped(this.line);
        }
      }
      if (nl < 0) break;
      out += this.pending + '\n';
      this.pending = '';
      this.line++;
      this.dropping = false;
      start = nl + 1;
    }
    done(null, out);
  }
  override _flush(done: TransformCallback) {
    done(null, this.pending);
  }
}

function countBreaks(record: string[]): number {
  let n = 0;
  for (const v of record) for (let i = v.indexOf('\n'); i >= 0; i = v.indexOf('\n', i + 1)) n++;
  return n;
}

function csvReason(err: (Error & { code?: string }) | undefined): string {
  switch (err?.code) {
    case 'CSV_MAX_RECORD_SIZE':
      return `record longer than ${MAX_RECORD_BYTES / 1024 / 1024} MB`;
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field is not closed (is the file cut short?)';
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'a quote inside a field is not escaped';
    default:
      return err?.message.slice(0, 200) ?? 'unreadable record';
  }
}

/** Column names as a file gives them, made unique (`name`, `name (2)`) and never empty. */
function uniqueNames(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((raw, i) => {
    const name = raw === '' ? `Column ${i + 1}` : raw;
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return n === 1 ? name : `${name} (${n})`;
  });
}

/** Lines of text, each at most MAX_RECORD_BYTES (longer ones are dropped, their number kept). */
class LineSplitter extends Transform {
  private buffer = '';
  private dropping = false;
  private line = 0;
  constructor() {
    super({ readableObjectMode: true, decodeStrings: false });
  }
  override _transform(chunk: string, _enc: BufferEncoding, done: TransformCallback) {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', start)) {
      this.emitLine(this.buffer + chunk.slice(start, nl));
      this.buffer = '';
      start = nl + 1;
    }
    if (!this.dropping) this.buffer += chunk.slice(start);
    if (this.buffer.length > MAX_RECORD_BYTES) {
      this.dropping = true;
      this.buffer = '';
    }
    done();
  }
  override _flush(done: TransformCallback) {
    if (this.buffer !== '' || this.dropping) this.emitLine(this.buffer);
    done();
  }
  private emitLine(text: string) {
    this.line++;
    this.push({ line: this.line, text: this.dropping ? null : text.replace(/\r$/, '') });
    this.dropping = false;
  }
}

async function* readNdjson(text: Readable, onColumns: (columns: string[]) => void): AsyncGenerator<ReadItem> {
  const lines = text.pipe(new LineSplitter());
  text.on('error', (err) => lines.destroy(err));
  const columns = new Set<string>();
  let announced = false;
  for await (const { line, text: body } of lines as AsyncIterable<{ line: number; text: string | null }>) {
    if (body === null) {
      yield { kind: 'bad', line, reason: `line longer than ${MAX_RECORD_BYTES / 1024 / 1024} MB`, raw: null };
      continue;
    }
    if (body.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (err) {
      yield { kind: 'bad', line, reason: `not JSON: ${(err as Error).message.slice(0, 120)}`, raw: null };
      continue;
    }
    const item = objectItem(line, value, columns);
    // The columns are those of the first objects (the preview's); later keys are read all the same.
    if (!announced && columns.size) {
      onColumns([...columns]);
      announced = true;
    }
    yield item;
  }
  if (!announced) onColumns([...columns]);
}

async function* readJsonArray(
  text: Readable,
  onColumns: (columns: string[]) => void
): AsyncGenerator<ReadItem> {
  const items = text.pipe(streamArray.withParserAsStream());
  text.on('error', (err) => items.destroy(err));
  const columns = new Set<string>();
  let announced = false;
  let position = 0;
  try {
    for await (const { value } of items as AsyncIterable<{ key: number; value: unknown }>) {
      position++;
      const item = objectItem(position, value, columns);
      if (!announced && columns.size) {
        onColumns([...columns]);
        announced = true;
      }
      yield item;
    }
  } catch (err) {
    yield {
      kind: 'bad',
      line: position + 1,
      reason: `the JSON stops being readable here (${(err as Error).message.slice(0, 120)}); nothing after it was read`,
      raw: null
    };
  }
  if (!announced) onColumns([...columns]);
}

function objectItem(line: number, value: unknown, columns: Set<string>): ReadItem {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return { kind: 'bad', line, reason: 'not a JSON object', raw: null };
  const values = flatten(value as Record<string, unknown>);
  if (JSON.stringify(values).length > MAX_RECORD_BYTES)
    return {
      kind: 'bad',
      line,
      reason: `record longer than ${MAX_RECORD_BYTES / 1024 / 1024} MB`,
      raw: null
    };
  if (columns.size < 200) for (const key of Object.keys(values)) columns.add(key);
  return { kind: 'row', line, values, raw: values };
}

/**
 * An object's values by column: nested objects as `a.b` (`customer.email`), arrays kept as they
 * are (an order's `items`), so one mapping serves flat and nested files.
 */
function flatten(obj: Record<string, unknown>, prefix = '', out: Values = {}): Values {
  for (const [key, value] of Object.entries(obj)) {
    const name = prefix + key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value))
      flatten(value as Record<string, unknown>, `${name}.`, out);
    else out[name] = value;
  }
  return out;
}
