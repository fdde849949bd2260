import type { User } from 'lucia';
import { LIST_FIELDS, visibleColumns } from '#shared/lists/query.js';
import type { BulkEntity } from '#shared/schemas/bulk.js';
import type { Db } from '../../data/db.js';
import { AppError } from '../../errors.js';
import { exportCsv } from '../lists/csv.js';
import { TABLES } from './actions.js';
import type { BulkJobRow } from './job-row.js';

// An export job writes the lists' CSV (same columns, labels, formula neutralising, BOM) in parts,
// one per batch, in the batch's transaction; the download streams the parts in order.

export const EXPORT = {
  /** The columns to write: the table's visible ones (checked against its fields), else its defaults. */
  async prepare(
    _db: Db,
    entity: BulkEntity,
    params: Record<string, unknown>
  ): Promise<Record<string, unknown>> {
    const columns = params.columns as string[] | undefined;
    if (!columns) return { columns: visibleColumns(entity, {}) };
    const unknown = columns.filter((c) => !LIST_FIELDS[entity].some((f) => f.key === c));
    if (unknown.length)
      throw new AppError('validation_failed', `Unknown column ${unknown[0]}`, [
        { path: 'params.columns', message: `unknown column "${unknown[0]}"` }
      ]);
    return { columns: [...new Set(columns)] };
  },

  /** The CSV of the rows among `ids` that still exist (the first part starts with the BOM and the header). */
  async render(db: Db, job: BulkJobRow, ids: number[]): Promise<{ found: number[]; part: Buffer }> {
    const [creator] = await db.query<User & { active: boolean }>(
      `SELECT id, email, name, role, team_id AS "teamId", active FROM users WHERE id = $1`,
      [job.created_by]
    );
    if (!creator?.active) throw new AppError('forbidden', 'The export’s creator can no longer export');
    const [{ parts }] = await db.query<{ parts: number }>(
      `SELECT count(*)::int AS parts FROM bulk_job_files WHERE job_id = $1`,
      [job.id]
    );
    const found: number[] = [];
    const chunks: string[] = [];
    let first = true;
    const columns = (job.params.columns as string[] | undefined) ?? visibleColumns(job.entity, {});
    for await (const chunk of exportCsv(
      db,
      { user: creator, ip: null },
      job.entity,
      { ids, sort: [{ field: 'id', dir: 'asc' }], limit: ids.length },
      columns
    )) {
      // The BOM and the header line open the file; later parts leave them out.
      if (!(first && parts > 0)) chunks.push(chunk);
      first = false;
    }
    // Which ids were written: the rows still there (read in the same transaction as the CSV).
    const present = await db.query<{ id: number }>(
      `SELECT id FROM ${TABLES[job.entity]} WHERE id = ANY ($1::int[])`,
      [ids]
    );
    found.push(...present.map((r) => Number(r.id)));
    return { found, part: Buffer.from(chunks.join(''), 'utf8') };
  },

  async store(db: Db, jobId: number, part: Buffer) {
    await db.query(
      `INSERT INTO bulk_job_files (job_id, part, data)
       SELECT $1, coalesce(max(part) + 1, 0), $2 FROM bulk_job_files WHERE job_id = $1`,
      [jobId, part]
    );
  }
};
