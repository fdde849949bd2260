import type { User } from 'lucia';
import type {
  ImportEntity,
  ImportJob,
  ImportOptions,
  ImportPreview,
  ImportReject
} from '#shared/schemas/imports.js';
import type { Db } from '../../../data/db.js';
import { AppError, notFound } from '../../../errors.js';
import type { Actor } from '../../../http/env.js';
import { failedRowsCsv, failedRowsHeader } from './failed-rows.js';
import { previewFile } from './preview.js';

// Uploads and import jobs as the API sees them. The runner (runner.ts) does the work.

/** An upload is kept in parts of this size (any server process can read it back in order). */
export const PART_BYTES = 1024 * 1024;
/** Bytes of the start of a file read for detection and the preview. */
const PREVIEW_BYTES = 256 * 1024;

export interface ImportJobRow {
  id: string | number;
  upload_id: string | number;
  entity: ImportEntity;
  file_name: string;
  dry_run: boolean;
  options: ImportOptions;
  columns: string[];
  created_by: number | null;
  state: ImportJob['state'];
  size: string | number;
  bytes_read: string | number;
  rows_count: number;
  imported: number;
  updated: number;
  unchanged: number;
  rejected: number;
  error: string | null;
  created_at: Date | string;
  started_at: Date | string | null;
  finished_at: Date | string | null;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

export function presentImportJob(row: ImportJobRow): ImportJob {
  const id = Number(row.id);
  return {
    id,
    uploadId: Number(row.upload_id),
    entity: row.entity,
    fileName: row.file_name,
    dryRun: row.dry_run,
    state: row.state,
    createdBy: row.created_by,
    bytesRead: Number(row.bytes_read),
    size: Number(row.size),
    rows: row.rows_count,
    imported: row.imported,
    updated: row.updated,
    unchanged: row.unchanged,
    rejected: row.rejected,
    error: row.error,
    createdAt: iso(row.created_at)!,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    failedRowsUrl: row.rejected > 0 ? `/api/imports/${id}/failed-rows.csv` : null
  };
}

const canSee = (user: User, createdBy: number | null) => createdBy === user.id || user.role === 'admin';

/**
 * Stores a file as it arrives (never whole in memory), part by part, then answers what its start
 * looks like. A failed upload leaves nothing behind.
 */
export async function createUpload(
  db: Db,
  actor: Actor,
  input: { entity: ImportEntity; name: string; maxBytes: number },
  body: AsyncIterable<Uint8Array> | null
): Promise<ImportPreview> {
  const [upload] = await db.query<{ id: string }>(
    `INSERT INTO import_uploads (entity, file_name, created_by) VALUES ($1, $2, $3) RETURNING id`,
    [input.entity, input.name, actor.user.id]
  );
  const id = Number(upload.id);
  let size = 0;
  let part = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const store = async () => {
    if (pendingBytes === 0) return;
    await db.query(`INSERT INTO import_upload_parts (upload_id, part, data) VALUES ($1, $2, $3)`, [
      id,
      part++,
      Buffer.concat(pending)
    ]);
    pending = [];
    pendingBytes = 0;
  };
  try {
    for await (const chunk of body ?? []) {
      size += chunk.length;
      if (size > input.maxBytes)
        throw new AppError(
          'payload_too_large',
          `The file is larger than ${Math.round(input.maxBytes / 1024 / 1024)} MiB`
        );
      pending.push(Buffer.from(chunk));
      pendingBytes += chunk.length;
      if (pendingBytes >= PART_BYTES) await store();
    }
    await store();
    await db.query(`UPDATE import_uploads SET size = $2, complete = true WHERE id = $1`, [id, size]);
  } catch (err) {
    await db.query(`DELETE FROM import_uploads WHERE id = $1`, [id]).catch(() => undefined);
    throw err;
  }
  return previewUpload(db, actor, id, {});
}

async function visibleUpload(db: Db, user: User, id: number) {
  const [row] = await db.query<{
    id: string;
    entity: ImportEntity;
    file_name: string;
    size: string;
    created_by: number | null;
    complete: boolean;
  }>(`SELECT id, entity, file_name, size, created_by, complete FROM import_uploads WHERE id = $1`, [id]);
  if (!row || !row.complete || !canSee(user, row.created_by)) throw notFound('Upload');
  return row;
}

/** The start of an upload read with the options chosen so far (detection fills the rest). */
export async function previewUpload(
  db: Db,
  actor: Actor,
  id: number,
  chosen: Partial<ImportOptions>
): Promise<ImportPreview> {
  const upload = await visibleUpload(db, actor.user, id);
  const [first] = await db.query<{ data: Buffer | null }>(
    `SELECT substring(data FROM 1 FOR $2) AS data FROM import_upload_parts WHERE upload_id = $1 AND part = 0`,
    [id, PREVIEW_BYTES]
  );
  return previewFile(
    upload.entity,
    first?.data ?? Buffer.alloc(0),
    Number(upload.size),
    chosen,
    id,
    upload.file_name
  );
}

/** Queues a run (or a dry run) of an upload; the runner takes it at once when it has room. */
export async function startImport(
  db: Db,
  actor: Actor,
  input: { uploadId: number; dryRun: boolean; options: ImportOptions }
): Promise<ImportJob> {
  const upload = await visibleUpload(db, actor.user, input.uploadId);
  const [row] = await db.query<ImportJobRow>(
    `INSERT INTO import_jobs (upload_id, entity, file_name, dry_run, options, created_by, size)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7) RETURNING *`,
    [
      upload.id,
      upload.entity,
      upload.file_name,
      input.dryRun,
      JSON.stringify(input.options),
      actor.user.id,
      upload.size
    ]
  );
  return presentImportJob(row);
}

async function visibleJob(db: Db, user: User, id: number): Promise<ImportJobRow> {
  const [row] = await db.query<ImportJobRow>(`SELECT * FROM import_jobs WHERE id = $1`, [id]);
  if (!row || !canSee(user, row.created_by)) throw notFound('Import');
  return row;
}

export async function getImport(db: Db, actor: Actor, id: number): Promise<ImportJob> {
  return presentImportJob(await visibleJob(db, actor.user, id));
}

/** The caller's imports, newest first (an admin sees everyone's). */
export async function listImports(
  db: Db,
  actor: Actor,
  query: { limit: number }
): Promise<{ jobs: ImportJob[] }> {
  const admin = actor.user.role === 'admin';
  const rows = await db.query<ImportJobRow>(
    admin
      ? `SELECT * FROM import_jobs ORDER BY id DESC LIMIT $1`
      : `SELECT * FROM import_jobs WHERE created_by = $2 ORDER BY id DESC LIMIT $1`,
    admin ? [query.limit] : [query.limit, actor.user.id]
  );
  return { jobs: rows.map(presentImportJob) };
}

export async function listRejects(
  db: Db,
  actor: Actor,
  id: number,
  query: { offset: number; limit: number }
): Promise<{ rejects: ImportReject[]; total: number }> {
  await visibleJob(db, actor.user, id);
  const rows = await db.query<{ line: number; column_name: string | null; reason: string }>(
    `SELECT line, column_name, reason FROM import_rejects WHERE job_id = $1 ORDER BY seq OFFSET $2 LIMIT $3`,
    [id, query.offset, query.limit]
  );
  const [{ total }] = await db.query<{ total: number }>(
    `SELECT count(*)::int AS total FROM import_rejects WHERE job_id = $1`,
    [id]
  );
  return { rejects: rows.map((r) => ({ line: r.line, column: r.column_name, reason: r.reason })), total };
}

/** The failed rows as CSV, read a page at a time as the response is written (any size). */
export async function openFailedRows(
  db: Db,
  actor: Actor,
  id: number
): Promise<{ fileName: string; parts: AsyncIterable<string> }> {
  const job = await visibleJob(db, actor.user, id);
  const base = job.file_name.replace(/\.[a-z0-9]+$/i, '');
  return {
    fileName: `${base.replace(/[^\w.-]+/g, '_').slice(0, 80) || 'import'}-failed-rows.csv`,
    parts: (async function* () {
      yield failedRowsHeader(job.columns);
      let after = -1;
      for (;;) {
        const page = await db.query<{
          seq: number;
          line: number;
          column_name: string | null;
          reason: string;
          raw: unknown;
        }>(
          `SELECT seq, line, column_name, reason, raw FROM import_rejects
            WHERE job_id = $1 AND seq > $2 ORDER BY seq LIMIT 1000`,
          [id, after]
        );
        if (page.length === 0) return;
        after = page.at(-1)!.seq;
        yield failedRowsCsv(
          job.columns,
          page.map((r) => ({ line: r.line, column: r.column_name, reason: r.reason, raw: r.raw }))
        );
      }
    })()
  };
}
