import type pg from 'pg';
import type { Logger } from 'pino';
import type { BulkJob, BulkSelection } from '#shared/schemas/bulk.js';
import { inTransaction, type Db } from '../../data/db.js';
import { audit } from '../audit.js';
import { ACTIONS, TABLES, type BatchResult } from './actions.js';
import { EXPORT } from './export.js';
import type { BulkJobRow } from './job-row.js';
import { auditJob, presentJob } from './jobs.js';
import { snapshotSelection } from './selection.js';

// Runs bulk jobs inside the server process: a few at a time, each in short batches that commit
// on their own, so a job over 100,000 rows never holds a lock for longer than one batch and
// never makes the console wait.
//
// - A job is owned by whichever process holds its advisory lock (session level, on the
//   connection that works it). A process that dies lets go of it with its connection, and the
//   next runner to look (any process, every `pollMs`) takes the job over.
// - Starting a job snapshots the ids it will touch into bulk_job_items; each batch deletes the
//   ids it handled in the same transaction as its changes and its progress. An interrupted job
//   continues with exactly the ids that are left; none is done twice.
// - A batch locks the job's row first, so a cancel waits for the batch in hand and the batch
//   after it sees the cancel. Rows are locked `FOR NO KEY UPDATE SKIP LOCKED` in id order: a row
//   the console is writing is left for a later batch instead of waited for (no deadlock, no
//   queue behind a slow transaction), and new orders of a customer (which take a key-share lock
//   on it) are never blocked at all.

/** Advisory lock class of bulk jobs ('BULK'); the job id is the second key. */
const LOCK_CLASS = 0x42554c4b;
/** A row found locked by someone else this many batches running is counted as failed. */
export const MAX_BUSY_ATTEMPTS = 8;
/** Wait before retrying rows that were all busy: this times the attempts so far. */
const BUSY_BACKOFF_MS = 150;
/** Errors in a row that end a job instead of being retried. */
const MAX_JOB_ERRORS = 5;
/** A batch waits at most this long for the job's row (a cancel in progress) or anything else. */
const BATCH_LOCK_TIMEOUT = '5s';
const SNAPSHOT_TIMEOUT = '10min';

export interface BulkRunnerOptions {
  pool: pg.Pool;
  logger: Logger;
  /** Tells a job's creator (all their tabs, on every process) where it stands. */
  notify: (userId: number, job: BulkJob) => void;
  /** Ids per batch (one short transaction each). */
  batchSize: number;
  /** Jobs this process works on at once. */
  concurrency: number;
  /** How often it looks for jobs left by a stopped process or started on another. */
  pollMs: number;
}

type Step = 'continue' | 'busy' | 'stop';

export class BulkRunner {
  private readonly active = new Map<number, Promise<void>>();
  private readonly errors = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private filling = false;
  private again = false;
  private stopping = false;

  constructor(private readonly opts: BulkRunnerOptions) {}

  /** Starts looking for jobs: at once (resuming what a previous run left) and every `pollMs`. */
  start() {
    this.timer = setInterval(() => this.wake(), this.opts.pollMs);
    this.timer.unref();
    this.wake();
  }

  /** A job was queued: start it now if there is room. */
  wake() {
    if (this.stopping) return;
    this.fill().catch((err) => this.opts.logger.error({ err }, 'bulk runner could not look for jobs'));
  }

  /** Tells the creator where a job stands (after a change made outside the runner, such as a cancel). */
  announce(job: BulkJob) {
    if (job.createdBy !== null) this.opts.notify(job.createdBy, job);
  }

  /** Finishes the batches in hand and stops; unfinished jobs stay for the next start. */
  async close() {
    this.stopping = true;
    clearInterval(this.timer);
    await Promise.allSettled([...this.active.values()]);
  }

  private async fill() {
    if (this.filling) {
      this.again = true;
      return;
    }
    this.filling = true;
    try {
      do {
        this.again = false;
        if (this.active.size >= this.opts.concurrency) break;
        const waiting = await this.opts.pool.query<{ id: string }>(
          `SELECT id FROM bulk_jobs WHERE state IN ('queued', 'running') ORDER BY id LIMIT 50`
        );
        for (const { id: raw } of waiting.rows) {
          const id = Number(raw);
          if (this.stopping || this.active.size >= this.opts.concurrency) break;
          if (this.active.has(id)) continue;
          await this.claim(id);
        }
      } while (this.again && !this.stopping);
    } finally {
      this.filling = false;
    }
  }

  /** Takes the job when no other runner holds it, and works it on the connection that holds the lock. */
  private async claim(id: number) {
    const client = await this.opts.pool.connect();
    let got: boolean;
    try {
      const { rows } = await client.query<{ got: boolean }>(
        `SELECT pg_try_advisory_lock($1, $2::int) AS got`,
        [LOCK_CLASS, id]
      );
      got = rows[0].got;
    } catch (err) {
      client.release(err as Error);
      throw err;
    }
    if (!got) {
      client.release();
      return;
    }
    const run = this.work(client, id).finally(() => {
      this.active.delete(id);
      if (!this.stopping) this.wake();
    });
    this.active.set(id, run);
  }

  private async work(client: pg.PoolClient, id: number) {
    let broken: Error | undefined;
    try {
      let step: Step = (await this.begin(client, id)) ? 'continue' : 'stop';
      while (step !== 'stop' && !this.stopping) {
        const { step: next, busiest } = await this.batch(client, id);
        step = next;
        this.errors.delete(id);
        // Only rows others hold were left: give them time, longer each round.
        if (step === 'busy') await delay(BUSY_BACKOFF_MS * Math.max(1, busiest));
        else await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      broken = err as Error;
      await this.failed(id, broken);
    } finally {
      if (!broken) {
        await client
          .query(`SELECT pg_advisory_unlock($1, $2::int)`, [LOCK_CLASS, id])
          .catch((err: Error) => (broken = err));
      }
      // A connection that failed is closed rather than reused: its lock goes with it.
      client.release(broken);
    }
  }

  /** Counts an error; after MAX_JOB_ERRORS in a row the job ends as failed (else it is retried later). */
  private async failed(id: number, err: Error) {
    const count = (this.errors.get(id) ?? 0) + 1;
    this.errors.set(id, count);
    this.opts.logger.warn({ err, job: id, attempt: count }, 'bulk job batch failed');
    if (count < MAX_JOB_ERRORS) return;
    this.errors.delete(id);
    try {
      const row = await inTransaction(this.opts.pool, async (db) => {
        const [job] = await db.query<BulkJobRow>(
          `UPDATE bulk_jobs SET state = 'failed', finished_at = now(), error = $2
            WHERE id = $1 AND state IN ('queued', 'running') RETURNING *`,
          [id, err.message.slice(0, 500)]
        );
        if (!job) return undefined;
        await db.query(`DELETE FROM bulk_job_items WHERE job_id = $1`, [id]);
        await auditJob(db, job);
        return job;
      });
      if (row) this.announce(presentJob(row));
    } catch (e) {
      this.opts.logger.error({ err: e, job: id }, 'bulk job could not be marked failed');
    }
  }

  /**
   * A queued job starts: the ids matching its selection now are the ones it will process (rows
   * that start matching later are not touched; rows that stop matching are still processed, as
   * the user confirmed them). Returns false when the job has nothing left to do.
   */
  private async begin(client: pg.PoolClient, id: number): Promise<boolean> {
    const started = await inTransaction(client, async (db) => {
      const [job] = await db.query<BulkJobRow>(`SELECT * FROM bulk_jobs WHERE id = $1 FOR UPDATE`, [id]);
      if (!job || (job.state !== 'queued' && job.state !== 'running')) return null;
      if (job.state === 'running') return { job, fresh: false };
      await db.query(`SET LOCAL statement_timeout = '${SNAPSHOT_TIMEOUT}'`);
      const total = await snapshotSelection(db, id, job.entity, job.selection as BulkSelection);
      const [running] = await db.query<BulkJobRow>(
        `UPDATE bulk_jobs SET state = 'running', started_at = now(), total = $2 WHERE id = $1 RETURNING *`,
        [id, total]
      );
      return { job: running, fresh: true };
    });
    if (!started) return false;
    if (started.fresh) this.announce(presentJob(started.job));
    return true;
  }

  /** One batch in one transaction: lock, change, record progress (and the audit), commit. */
  private async batch(client: pg.PoolClient, id: number): Promise<{ step: Step; busiest: number }> {
    const outcome = await inTransaction(client, async (db) => {
      await db.query(`SET LOCAL lock_timeout = '${BATCH_LOCK_TIMEOUT}'`);
      const [job] = await db.query<BulkJobRow>(`SELECT * FROM bulk_jobs WHERE id = $1 FOR UPDATE`, [id]);
      if (!job || job.state !== 'running') return { step: 'stop' as const, job: undefined, busiest: 0 };
      const items = await db.query<{ row_id: string; attempts: number }>(
        `SELECT row_id, attempts FROM bulk_job_items WHERE job_id = $1
          ORDER BY attempts, row_id LIMIT $2`,
        [id, this.opts.batchSize]
      );
      if (items.length === 0) {
        const [done] = await db.query<BulkJobRow>(
          `UPDATE bulk_jobs SET state = 'done', finished_at = now() WHERE id = $1 RETURNING *`,
          [id]
        );
        await auditJob(db, done);
        return { step: 'stop' as const, job: done, busiest: 0 };
      }
      const ids = items.map((i) => Number(i.row_id));
      const attempts = new Map(items.map((i) => [Number(i.row_id), i.attempts]));
      const { result, busy, gone } = await this.process(db, job, ids);

      const exhausted = busy.filter((rowId) => attempts.get(rowId)! + 1 >= MAX_BUSY_ATTEMPTS);
      const retry = busy.filter((rowId) => attempts.get(rowId)! + 1 < MAX_BUSY_ATTEMPTS);
      const failed: Record<string, number[]> = { ...result.failed };
      if (exhausted.length) failed['kept locked by other work'] = exhausted;
      const skipped: Record<string, number[]> = { ...result.skipped };
      if (gone.length) skipped['no longer exists'] = gone;

      const retrySet = new Set(retry);
      const handled = ids.filter((rowId) => !retrySet.has(rowId));
      await db.query(`DELETE FROM bulk_job_items WHERE job_id = $1 AND row_id = ANY ($2::bigint[])`, [
        id,
        handled
      ]);
      if (retry.length)
        await db.query(
          `UPDATE bulk_job_items SET attempts = attempts + 1 WHERE job_id = $1 AND row_id = ANY ($2::bigint[])`,
          [id, retry]
        );
      if (result.updated.length && job.action !== 'export') {
        // Which rows this job changed, for anyone asking later who changed a record and how.
        await audit(db, {
          action: 'bulk.batch',
          actorUserId: job.created_by,
          targetType: 'bulk_job',
          targetId: id,
          details: { entity: job.entity, action: job.action, params: job.params, ids: result.updated }
        });
      }
      const reasons = { ...job.reasons };
      const skippedCount = countInto(reasons, skipped);
      const failedCount = countInto(reasons, failed);
      const [progressed] = await db.query<BulkJobRow>(
        `UPDATE bulk_jobs
            SET processed = processed + $2, updated_count = updated_count + $3,
                skipped_count = skipped_count + $4, failed_count = failed_count + $5, reasons = $6::jsonb
          WHERE id = $1 RETURNING *`,
        [id, handled.length, result.updated.length, skippedCount, failedCount, JSON.stringify(reasons)]
      );
      const step: Step = handled.length === 0 ? 'busy' : 'continue';
      return { step, job: progressed, busiest: Math.max(0, ...retry.map((r) => attempts.get(r)! + 1)) };
    });
    // A round that only found busy rows changed nothing worth telling.
    if (outcome.job && outcome.step !== 'busy') this.announce(presentJob(outcome.job));
    return { step: outcome.step, busiest: outcome.busiest };
  }

  /** Locks what it can of `ids` and applies the action; the rest is busy (locked by others) or gone. */
  private async process(db: Db, job: BulkJobRow, ids: number[]) {
    if (job.action === 'export') {
      const { found, part } = await EXPORT.render(db, job, ids);
      await EXPORT.store(db, Number(job.id), part);
      const present = new Set(found);
      return {
        result: { updated: found, skipped: {}, failed: {} },
        busy: [] as number[],
        gone: ids.filter((rowId) => !present.has(rowId))
      };
    }
    const table = TABLES[job.entity];
    const locked = (
      await db.query<{ id: number }>(
        `SELECT id FROM ${table} WHERE id = ANY ($1::int[]) ORDER BY id FOR NO KEY UPDATE SKIP LOCKED`,
        [ids]
      )
    ).map((r) => Number(r.id));
    const lockedSet = new Set(locked);
    const missing = ids.filter((rowId) => !lockedSet.has(rowId));
    const existing = missing.length
      ? new Set(
          (
            await db.query<{ id: number }>(`SELECT id FROM ${table} WHERE id = ANY ($1::int[])`, [missing])
          ).map((r) => Number(r.id))
        )
      : new Set<number>();
    const busy = missing.filter((rowId) => existing.has(rowId));
    const gone = missing.filter((rowId) => !existing.has(rowId));
    const result = locked.length
      ? await applyIsolated(db, job, locked)
      : { updated: [], skipped: {}, failed: {} };
    return { result, busy, gone };
  }

  /** Jobs in hand (for tests and shutdown). */
  get running(): number[] {
    return [...this.active.keys()];
  }
}

/**
 * Applies the action to the batch; when a row breaks a rule of the database (a CHECK, a value
 * too long), applies it row by row instead so that only that row fails, with the reason.
 */
async function applyIsolated(
  db: Db,
  job: BulkJobRow,
  ids: number[]
): Promise<BatchResult & { failed: Record<string, number[]> }> {
  const action = ACTIONS[job.action as keyof typeof ACTIONS];
  await db.query('SAVEPOINT bulk_batch');
  try {
    const result = await action.apply(db, job.entity, job.params, ids);
    await db.query('RELEASE SAVEPOINT bulk_batch');
    return { ...result, failed: {} };
  } catch (err) {
    await db.query('ROLLBACK TO SAVEPOINT bulk_batch');
    if (!isDataError(err)) throw err;
  }
  const out: BatchResult & { failed: Record<string, number[]> } = { updated: [], skipped: {}, failed: {} };
  for (const rowId of ids) {
    await db.query('SAVEPOINT bulk_row');
    try {
      const one = await action.apply(db, job.entity, job.params, [rowId]);
      await db.query('RELEASE SAVEPOINT bulk_row');
      out.updated.push(...one.updated);
      for (const [reason, some] of Object.entries(one.skipped)) (out.skipped[reason] ??= []).push(...some);
    } catch (err) {
      await db.query('ROLLBACK TO SAVEPOINT bulk_row');
      if (!isDataError(err)) throw err;
      (out.failed[`refused by the database: ${(err as Error).message.slice(0, 120)}`] ??= []).push(rowId);
    }
  }
  return out;
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation): the row's fault. */
const isDataError = (err: unknown) => /^2[23]/.test(String((err as { code?: string })?.code ?? ''));

/** Adds each reason's count to `reasons`; returns the total. */
function countInto(reasons: Record<string, number>, byReason: Record<string, number[]>): number {
  let total = 0;
  for (const [reason, ids] of Object.entries(byReason)) {
    if (!ids.length) continue;
    reasons[reason] = (reasons[reason] ?? 0) + ids.length;
    total += ids.length;
  }
  return total;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
