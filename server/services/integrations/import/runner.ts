import type pg from 'pg';
import type { Logger } from 'pino';
import { Readable } from 'node:stream';
import type { ImportJob } from '#shared/schemas/imports.js';
import { inTransaction, type Db } from '../../../data/db.js';
import { resilientPool } from '../../../data/dedicated-connections.js';
import { audit } from '../../audit.js';
import { presentImportJob, type ImportJobRow } from './jobs.js';
import { runImport } from './pipeline.js';

// Runs import jobs inside the server process, one at a time per process, on connections of its
// own, so an import keeps going when the browser that started it is closed. A job belongs to the
// process holding its advisory lock (session level, on the connection working it); a process that
// stops lets go with its connection and the next runner to look takes the job over. A job taken
// over starts again from the top of its file: the import is idempotent (upserts that write only
// what differs), so rows done before are found unchanged, and its counts and rejects are reset.

/** Advisory lock class of import jobs ('IMPT'); the job id is the second key. */
const LOCK_CLASS = 0x494d5054;

export interface ImportRunnerOptions {
  databaseUrl: string;
  logger: Logger;
  notify: (userId: number, job: ImportJob) => void;
  pollMs: number;
  batchSize?: number;
  /** Connections a customer import applies its batches on at once (pipeline.ts); 2 by default. */
  applyConnections?: number;
}

export class ImportRunner {
  private readonly pool: pg.Pool;
  private active: Promise<void> | null = null;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private again = false;

  constructor(private readonly opts: ImportRunnerOptions) {
    // The job's own connection, the upload's reader, and the connections batches apply on.
    const max = 2 + (opts.applyConnections ?? 2);
    this.pool = resilientPool(opts.databaseUrl, 'pulse-import', max, opts.logger);
  }

  start() {
    this.timer = setInterval(() => this.wake(), this.opts.pollMs);
    this.timer.unref();
    this.wake();
  }

  /** A job was queued: start it now if this process is free. */
  wake() {
    if (this.stopping) return;
    if (this.active) {
      this.again = true;
      return;
    }
    this.active = this.next()
      .catch((err) => this.opts.logger.error({ err }, 'import runner could not look for jobs'))
      .finally(() => {
        this.active = null;
        if (this.again && !this.stopping) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Finishes the batch in hand and stops; the job continues at the next start (from the top). */
  async close() {
    this.stopping = true;
    clearInterval(this.timer);
    await this.active;
    await this.pool.end();
  }

  private announce(row: ImportJobRow) {
    if (row.created_by !== null) this.opts.notify(row.created_by, presentImportJob(row));
  }

  private async next() {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM import_jobs WHERE state IN ('queued', 'running') ORDER BY id LIMIT 20`
    );
    for (const { id } of rows) {
      if (this.stopping) return;
      const client = await this.pool.connect();
      let broken: Error | undefined;
      try {
        const { rows: got } = await client.query<{ got: boolean }>(
          `SELECT pg_try_advisory_lock($1, $2::int) AS got`,
          [LOCK_CLASS, Number(id)]
        );
        if (!got[0].got) continue;
        try {
          await this.work(client, Number(id));
        } finally {
          await client
            .query(`SELECT pg_advisory_unlock($1, $2::int)`, [LOCK_CLASS, Number(id)])
            .catch((err: Error) => (broken = err));
        }
      } catch (err) {
        broken = err as Error;
        throw err;
      } finally {
        client.release(broken);
      }
      this.again = true; // more may be waiting
      return;
    }
  }

  private async work(client: pg.PoolClient, id: number) {
    const [job] = (
      await client.query<ImportJobRow>(
        `UPDATE import_jobs
            SET state = 'running', started_at = now(), bytes_read = 0, rows_count = 0, imported = 0, updated = 0,
                unchanged = 0, rejected = 0
          WHERE id = $1 AND state IN ('queued', 'running') RETURNING *`,
        [id]
      )
    ).rows;
    if (!job) return;
    await client.query(`DELETE FROM import_rejects WHERE job_id = $1`, [id]);
    this.announce(job);
    let seq = 0;
    const appliers: pg.PoolClient[] = [];
    let failed = false;
    try {
      if (job.entity === 'customers')
        for (let i = 0; i < (this.opts.applyConnections ?? 2); i++) appliers.push(await this.pool.connect());
      const totals = await runImport({
        client,
        appliers,
        entity: job.entity,
        options: job.options,
        // Read on another connection than the one the batches write through.
        source: Readable.from(uploadParts(this.pool, Number(job.upload_id))),
        dryRun: job.dry_run,
        jobId: id,
        batchSize: this.opts.batchSize,
        onColumns: async (columns) => {
          await client.query(`UPDATE import_jobs SET columns = $2 WHERE id = $1`, [id, columns]);
        },
        onBatch: async (t, rejects) => {
          if (rejects.length) {
            const first = seq;
            seq += rejects.length;
            await client.query(
              `INSERT INTO import_rejects (job_id, seq, line, column_name, reason, raw)
               SELECT $1, $2 + n - 1, line, column_name, reason, raw
                 FROM unnest($3::int[], $4::text[], $5::text[], $6::jsonb[]) WITH ORDINALITY AS r(line, column_name, reason, raw, n)`,
              [
                id,
                first,
                rejects.map((r) => r.line),
                rejects.map((r) => r.column),
                rejects.map((r) => r.reason.slice(0, 500)),
                rejects.map((r) => (r.raw === null || r.raw === undefined ? null : JSON.stringify(r.raw)))
              ]
            );
          }
          const { rows } = await client.query<ImportJobRow>(
            `UPDATE import_jobs SET bytes_read = $2, rows_count = $3, imported = $4, updated = $5, unchanged = $6,
                    rejected = $7 WHERE id = $1 RETURNING *`,
            [id, t.bytesRead, t.rows, t.imported, t.updated, t.unchanged, t.rejected]
          );
          this.announce(rows[0]);
        }
      });
      const done = await finish(
        client,
        `UPDATE import_jobs SET state = 'done', finished_at = now(), bytes_read = size, rows_count = $2,
                imported = $3, updated = $4, unchanged = $5, rejected = $6 WHERE id = $1 RETURNING *`,
        [id, totals.rows, totals.imported, totals.updated, totals.unchanged, totals.rejected]
      );
      this.announce(done);
    } catch (err) {
      failed = true;
      if (this.stopping) throw err;
      this.opts.logger.warn({ err, job: id }, 'import job failed');
      const failedJob = await finish(
        client,
        `UPDATE import_jobs SET state = 'failed', finished_at = now(), error = $2 WHERE id = $1 RETURNING *`,
        [id, (err as Error).message.slice(0, 500)]
      );
      this.announce(failedJob);
    } finally {
      // After a failure they may be broken: the pool makes new ones.
      for (const applier of appliers) applier.release(failed);
    }
  }
}

/** A job's final state and its audit row (none for a dry run), in one transaction on the job's connection. */
function finish(client: pg.PoolClient, update: string, params: unknown[]): Promise<ImportJobRow> {
  return inTransaction(client, async (t) => {
    const [row] = await t.query<ImportJobRow>(update, params);
    await auditJob(t, row);
    return row;
  });
}

async function auditJob(db: Db, row: ImportJobRow) {
  if (row.dry_run) return;
  await audit(db, {
    action: `import.${row.state}`,
    actorUserId: row.created_by,
    targetType: 'import_job',
    targetId: row.id,
    details: {
      entity: row.entity,
      file: row.file_name,
      rows: row.rows_count,
      imported: row.imported,
      updated: row.updated,
      rejected: row.rejected,
      ...(row.error ? { error: row.error } : {})
    }
  });
}

/** An upload's bytes in order, one part in memory at a time. */
async function* uploadParts(client: pg.Pool, uploadId: number): AsyncGenerator<Buffer> {
  const { rows } = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM import_upload_parts WHERE upload_id = $1`,
    [uploadId]
  );
  for (let part = 0; part < rows[0].n; part++) {
    const { rows: data } = await client.query<{ data: Buffer }>(
      `SELECT data FROM import_upload_parts WHERE upload_id = $1 AND part = $2`,
      [uploadId, part]
    );
    if (data[0]) yield data[0].data;
  }
}
