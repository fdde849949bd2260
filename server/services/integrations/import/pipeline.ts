import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DEFAULT_IMPORT_SOURCE,
  type ImportEntity,
  type ImportOptions,
  type ImportReject
} from '#shared/schemas/imports.js';
import { poolDb } from '../../../data/db.js';
import { applyBatch, type Applied } from './apply.js';
import { ENTITIES, type Cell, type Staged } from './entities.js';
import { FileKeys, type Repeat } from './file-keys.js';
import { readRecords } from './records.js';

// One import, start to end, on one connection: the file is read as a stream, each record checked
// and mapped; good rows gather into batches; a batch is COPYed into a temporary staging table and
// applied with a few set-based statements, in one transaction (a dry run rolls it back). When the
// database refuses a batch (a rule only it knows), the batch is applied again row by row inside the
// same transaction, so that only the refused rows fail, each with the database's reason; a batch
// is always all of its good rows or none. Memory stays bounded by two batches (one applying, the
// next being read): the keys given so far, to report a key the file repeats, are kept by the
// database (file-keys.ts). A customer import given more connections (`appliers`) applies that many
// batches at once, one a connection (see runImport).

export const DEFAULT_BATCH_SIZE = 5000;

/** The staged columns COPY fills, in the order of Staged.cells. */
const COPY_COLUMNS: Record<ImportEntity, string> = {
  customers:
    'line, email, external_id, first_name, last_name, phone, language, tags, notes, marketing_consent',
  products: 'line, sku, name, price, stock, description, active',
  orders:
    'line, ref, email, customer_id, customer_external_id, order_date, status, currency, channel, sku, quantity, unit_price'
};

export interface Totals {
  rows: number;
  imported: number;
  updated: number;
  unchanged: number;
  rejected: number;
  bytesRead: number;
}

export type Rejected = ImportReject & { raw: unknown };

export interface RunImportOptions {
  client: pg.PoolClient | pg.Client;
  /**
   * Connections that apply customer batches, one batch each at a time, so that several apply at
   * once (the database's work is most of an import's, and a backend uses one core). `client` then
   * only keeps the file's keys and runs the callbacks. Without them (and for products and orders,
   * whose batches may touch the same products), batches apply one at a time on `client`.
   */
  appliers?: (pg.PoolClient | pg.Client)[];
  entity: ImportEntity;
  options: ImportOptions;
  source: Readable;
  dryRun: boolean;
  jobId?: number | null;
  batchSize?: number;
  onColumns?: (columns: string[]) => void | Promise<void>;
  /** After each batch committed (or, in a dry run, rolled back): the totals so far and its rejects. */
  onBatch?: (totals: Totals, rejects: Rejected[]) => void | Promise<void>;
}

const copyCell = (v: Cell): string =>
  v === null
    ? '\\N'
    : typeof v === 'boolean'
      ? v
        ? 't'
        : 'f'
      : String(v).replace(/[\\\t\n\r]/g, (c) =>
          c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'
        );

const isDataError = (err: unknown) => /^2[23]/.test(String((err as { code?: string })?.code ?? ''));
/** Two batches applying at once that waited on each other (a merged customer's emails in both). */
const isDeadlock = (err: unknown) => (err as { code?: string })?.code === '40P01';

export async function runImport(opts: RunImportOptions): Promise<Totals> {
  const { client, entity } = opts;
  const spec = ENTITIES[entity];
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  // Customer batches touch only their own customers (the file's keys are unique, file-keys.ts), so
  // they may apply side by side; products' and orders' batches may share products.
  const appliers = entity === 'customers' && opts.appliers?.length ? opts.appliers : [client];
  const context = {
    jobId: opts.jobId ?? null,
    source: opts.options.source ?? DEFAULT_IMPORT_SOURCE,
    column: (field: string) => opts.options.mapping[field] ?? field,
    externalIds: Boolean(opts.options.mapping.external_id)
  };
  for (const conn of appliers)
    await conn.query(
      `CREATE TEMP TABLE IF NOT EXISTS ${spec.stage.table} (${spec.stage.columns}) ON COMMIT DELETE ROWS`
    );

  const fileKeys = new FileKeys(client, spec.grouped);
  await fileKeys.reset();

  const totals: Totals = { rows: 0, imported: 0, updated: 0, unchanged: 0, rejected: 0, bytesRead: 0 };
  const bytes = new PassThrough();
  bytes.on('data', (chunk: Buffer) => (totals.bytesRead += chunk.length));
  opts.source.on('error', (err) => bytes.destroy(err));
  opts.source.pipe(bytes);

  let columns: string[] = [];
  let lastKey: string | null = null;
  let batch: Staged[] = [];
  let raws = new Map<number, unknown>();
  let rejects: Rejected[] = [];

  // Batches go through three steps: their keys are checked against the file's (in file order, on
  // `client`), they apply (on their connection, side by side with the others in flight), and their
  // counts and callback follow (in file order, after the batch before's).
  let keysChecked: Promise<unknown> = Promise.resolve();
  let counted: Promise<unknown> = Promise.resolve();

  const flush = async (conn: pg.PoolClient | pg.Client, countedBefore: Promise<unknown>) => {
    // What was read up to this batch (reading goes on while it applies).
    const readUpTo = { rows: totals.rows, bytesRead: totals.bytesRead };
    // Taken before the first await: reading goes on into the next batch meanwhile.
    const staged = batch;
    const batchRaws = raws;
    const batchRejects = rejects;
    batch = [];
    raws = new Map();
    rejects = [];
    const keysBefore = keysChecked;
    const keys = keysBefore.then(() => (staged.length ? fileKeys.repeats(staged) : []));
    keysChecked = keys.catch(() => undefined);
    const repeated = new Set<number>();
    for (const r of await keys) {
      repeated.add(r.line);
      batchRejects.push({ ...repeatReject(r), raw: batchRaws.get(r.line) ?? null });
    }
    const rows = repeated.size ? staged.filter((r) => !repeated.has(r.line)) : staged;
    const lines = new Set(rows.map((r) => r.line));
    let applied: Applied = { imported: 0, updated: 0, rejects: [] };
    if (rows.length) applied = await applyInTransaction(conn, rows);
    await countedBefore;
    for (const r of applied.rejects) batchRejects.push({ ...r, raw: batchRaws.get(r.line) ?? null });
    const refused = new Set(applied.rejects.map((r) => r.line));
    totals.imported += applied.imported;
    totals.updated += applied.updated;
    const records = spec.grouped
      ? new Set(rows.filter((r) => !refused.has(r.line)).map((r) => r.key)).size
      : lines.size - refused.size;
    totals.unchanged += Math.max(0, records - applied.imported - applied.updated);
    totals.rejected += new Set(batchRejects.map((r) => r.line)).size;
    batchRejects.sort((a, b) => a.line - b.line); // in file order (repeats are found as the batch goes)
    await opts.onBatch?.({ ...totals, ...readUpTo }, batchRejects);
  };

  const repeatReject = ({ line, first, key, altLabel }: Repeat): ImportReject =>
    altLabel
      ? {
          line,
          column: opts.options.mapping.external_id ?? 'external_id',
          reason: `duplicate of line ${first} (the same ${altLabel})`
        }
      : {
          line,
          column: spec.grouped
            ? (opts.options.mapping.order_id ?? 'order_id')
            : keyColumn(entity, opts.options),
          reason: spec.grouped
            ? `order ${key} was already given on line ${first} (an order's items must be next to each other)`
            : `duplicate of line ${first} (the same ${entity === 'customers' ? 'email' : 'SKU'})`
        };

  const applyInTransaction = async (conn: pg.PoolClient | pg.Client, rows: Staged[]): Promise<Applied> => {
    for (let attempt = 1; ; attempt++)
      try {
        return await applyOnce(conn, rows);
      } catch (err) {
        // The database chose this batch to give way: nothing of it was written, so again.
        if (!isDeadlock(err) || attempt >= 5) throw err;
      }
  };

  const applyOnce = async (client: pg.PoolClient | pg.Client, rows: Staged[]): Promise<Applied> => {
    const db = poolDb(client as pg.PoolClient);
    await client.query('BEGIN');
    try {
      // A batch's commit does not wait for its WAL to reach the disk (the WAL writer flushes it
      // within a fraction of a second). A crash can lose the last batches committed, never part of
      // one, and never one the job's progress already counts: that progress is a durable commit
      // after the batch's, and WAL is flushed in order. The import is idempotent, so running it
      // again (a job taken over does) writes what was lost.
      await client.query(`SET LOCAL synchronous_commit = off`);
      let result: Applied;
      await client.query('SAVEPOINT import_batch');
      try {
        await copyRows(client, rows);
        result = await applyBatch(entity, db, context);
        await client.query('RELEASE SAVEPOINT import_batch');
      } catch (err) {
        await client.query('ROLLBACK TO SAVEPOINT import_batch');
        if (!isDataError(err)) throw err;
        result = await applyRowByRow(client, rows);
      }
      await client.query(opts.dryRun ? 'ROLLBACK' : 'COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  };

  /** The batch again, one record (an order: its items) at a time, so only refused ones fail. */
  const applyRowByRow = async (client: pg.PoolClient | pg.Client, rows: Staged[]): Promise<Applied> => {
    const db = poolDb(client as pg.PoolClient);
    const out: Applied = { imported: 0, updated: 0, rejects: [] };
    const groups = new Map<string, Staged[]>();
    for (const r of rows) {
      const key = spec.grouped ? r.key : String(r.line);
      const group = groups.get(key);
      if (group) group.push(r);
      else groups.set(key, [r]);
    }
    for (const group of groups.values()) {
      await client.query('SAVEPOINT import_row');
      try {
        await client.query(`TRUNCATE ${spec.stage.table}`);
        await copyRows(client, group);
        const one = await applyBatch(entity, db, context);
        await client.query('RELEASE SAVEPOINT import_row');
        out.imported += one.imported;
        out.updated += one.updated;
        out.rejects.push(...one.rejects);
      } catch (err) {
        await client.query('ROLLBACK TO SAVEPOINT import_row');
        if (!isDataError(err)) throw err;
        const reason = `refused by the database: ${(err as Error).message.slice(0, 160)}`;
        for (const r of group) out.rejects.push({ line: r.line, column: null, reason });
      }
    }
    return out;
  };

  const copyRows = async (client: pg.PoolClient | pg.Client, rows: Staged[]) => {
    await client.query(`TRUNCATE ${spec.stage.table}`);
    const text = rows.map((r) => r.cells.map(copyCell).join('\t')).join('\n') + '\n';
    const copy = client.query(
      copyStreams.from(`COPY ${spec.stage.table} (${COPY_COLUMNS[entity]}) FROM STDIN`)
    );
    await pipeline(Readable.from([Buffer.from(text)]), copy);
    await client.query(`ANALYZE ${spec.stage.table}`);
  };

  // The next batch is read and checked while the database applies the one before (on two cores,
  // parsing and applying each take one): at most one batch a connection applies at a time (batch
  // n on connection n mod appliers), and one more is in memory. A batch that fails stops the
  // import at the next hand-over, once the batches in flight are done.
  const inFlight: Promise<void>[] = [];
  let handedOver = 0;
  const handOver = async () => {
    if (inFlight.length >= appliers.length) await inFlight.shift();
    const applying = flush(appliers[handedOver++ % appliers.length], counted);
    applying.catch(() => undefined); // awaited at a later hand-over or at the end
    inFlight.push(applying);
    counted = applying;
  };

  try {
    for await (const item of readRecords(bytes, opts.options, (c) => {
      columns = c;
      // In turn with the batches' callbacks: the caller may write it through the connection they use.
      const before = counted;
      counted = before.then(() => opts.onColumns?.(c));
      counted.catch(() => undefined);
    })) {
      totals.rows++;
      if (item.kind === 'bad') {
        rejects.push({ line: item.line, column: null, reason: item.reason, raw: item.raw });
        if (rejects.length >= batchSize && !spec.grouped) await handOver();
        continue;
      }
      const checked = spec.check(item.line, item.values, opts.options.mapping);
      if (!checked.ok) {
        for (const r of checked.rejects) rejects.push({ ...r, raw: item.raw });
        if (rejects.length >= batchSize && !spec.grouped) await handOver();
        continue;
      }
      const key = checked.rows[0].key;
      if (spec.grouped && key !== lastKey && batch.length >= batchSize) await handOver();
      lastKey = key;
      batch.push(...checked.rows);
      raws.set(item.line, item.raw);
      if (!spec.grouped && batch.length >= batchSize) await handOver();
    }
    if (batch.length || rejects.length) await handOver();
    while (inFlight.length) await inFlight.shift();
    await counted;
  } finally {
    // A failed import leaves no batch running on the caller's connections.
    await Promise.allSettled(inFlight);
  }
  void columns;
  return totals;
}

const keyColumn = (entity: ImportEntity, options: ImportOptions) =>
  (entity === 'customers' ? options.mapping.email : options.mapping.sku) ??
  (entity === 'customers' ? 'email' : 'sku');
