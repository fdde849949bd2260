import type { Db } from '../../data/db.js';
import { toCsv } from '../analytics/csv.js';
import { TABLES } from './actions.js';
import type { BulkJobRow } from './jobs.js';

// An export job writes its CSV in parts, one per batch, in the batch's transaction; the download
// streams the parts in order. TEMPORARY columns until the lists service's exportCsv lands.

const BOM = '\uFEFF';

const COLUMNS: Record<string, string[]> = {
  customers: ['id', 'email', 'first_name', 'last_name', 'phone', 'tags', 'created_at'],
  orders: ['id', 'customer_id', 'order_date', 'status', 'total', 'currency', 'channel'],
  products: ['id', 'sku', 'name', 'price', 'stock', 'active']
};

export const EXPORT = {
  /** The CSV of the rows among `ids` that still exist (the first part starts with the BOM and the header). */
  async render(db: Db, job: BulkJobRow, ids: number[]): Promise<{ found: number[]; part: Buffer }> {
    const columns = COLUMNS[job.entity];
    const rows = await db.query<Record<string, unknown>>(
      `SELECT ${columns.join(', ')} FROM ${TABLES[job.entity]} WHERE id = ANY ($1::int[]) ORDER BY id`,
      [ids]
    );
    const [{ parts }] = await db.query<{ parts: number }>(
      `SELECT count(*)::int AS parts FROM bulk_job_files WHERE job_id = $1`,
      [job.id]
    );
    const csv = toCsv(
      columns.map((c) => ({
        header: c,
        value: (r: Record<string, unknown>) =>
          Array.isArray(r[c])
            ? (r[c] as string[]).join(' ')
            : r[c] instanceof Date
              ? (r[c] as Date).toISOString()
              : r[c]
      })),
      rows
    );
    const body = parts === 0 ? BOM + csv : csv.slice(csv.indexOf('\r\n') + 2);
    return { found: rows.map((r) => Number(r.id)), part: Buffer.from(body, 'utf8') };
  },

  async store(db: Db, jobId: number, part: Buffer) {
    await db.query(
      `INSERT INTO bulk_job_files (job_id, part, data)
       SELECT $1, coalesce(max(part) + 1, 0), $2 FROM bulk_job_files WHERE job_id = $1`,
      [jobId, part]
    );
  }
};
