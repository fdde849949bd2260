import type { User } from 'lucia';
import {
  AGENT_BULK_ACTIONS,
  AGENT_BULK_LIMIT,
  isFinished,
  type BulkJob,
  type BulkRequest
} from '#shared/schemas/bulk.js';
import { isManager } from '../../auth/policies.js';
import type { Db } from '../../data/db.js';
import { AppError, notFound } from '../../errors.js';
import type { Actor } from '../../http/env.js';
import { audit } from '../audit.js';
import { ACTIONS } from './actions.js';
import { EXPORT } from './export.js';
import type { BulkJobRow } from './job-row.js';
import { checkSelection } from './selection.js';

// Bulk jobs as the API sees them: start one, read it, list them, cancel it. The runner
// (runner.ts) does the work; these only write the job's row.

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

export function presentJob(row: BulkJobRow): BulkJob {
  const id = Number(row.id);
  return {
    id,
    entity: row.entity,
    action: row.action,
    params: row.params,
    selection: row.selection,
    createdBy: row.created_by,
    state: row.state,
    total: row.total,
    processed: row.processed,
    updated: row.updated_count,
    skipped: row.skipped_count,
    failed: row.failed_count,
    reasons: row.reasons,
    error: row.error,
    createdAt: iso(row.created_at)!,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    downloadUrl: row.action === 'export' && row.state === 'done' ? `/api/bulk/${id}/export.csv` : null
  };
}

/**
 * Who may start what. Acting on every matching row is for managers and admins; an agent may add
 * or remove tags on up to AGENT_BULK_LIMIT customers picked by id (what they would otherwise do
 * one profile at a time).
 */
function authorizeStart(user: User, input: BulkRequest) {
  if (isManager(user)) return;
  const { ids, q, filter } = input.selection;
  const picked = ids !== undefined && q === undefined && filter === undefined;
  if (
    input.entity === 'customers' &&
    AGENT_BULK_ACTIONS.includes(input.action) &&
    picked &&
    ids.length <= AGENT_BULK_LIMIT
  )
    return;
  throw new AppError(
    'forbidden',
    `Bulk actions on all matching rows are for managers and admins; agents may tag up to ${AGENT_BULK_LIMIT} customers they picked`
  );
}

/**
 * Accepts a job: checks who asks, the selection (compiled, so a bad filter is a 400 now and not
 * a failed job later) and the parameters against the database; the runner snapshots the matching
 * ids when it starts it.
 */
export async function createBulkJob(db: Db, actor: Actor, input: BulkRequest): Promise<BulkJob> {
  authorizeStart(actor.user, input);
  checkSelection(input.entity, input.selection);
  const action = input.action === 'export' ? EXPORT : ACTIONS[input.action];
  const params = action?.prepare ? await action.prepare(db, input.entity, input.params) : input.params;
  const [row] = await db.query<BulkJobRow>(
    `INSERT INTO bulk_jobs (entity, action, params, selection, created_by)
     VALUES ($1, $2, $3::jsonb, $4::jsonb, $5) RETURNING *`,
    [input.entity, input.action, JSON.stringify(params), JSON.stringify(input.selection), actor.user.id]
  );
  return presentJob(row);
}

/** A job its creator (or an admin) may see; anyone else is told it does not exist. */
async function visibleJob(db: Db, user: User, id: number, lock = false): Promise<BulkJobRow> {
  const [row] = await db.query<BulkJobRow>(
    `SELECT * FROM bulk_jobs WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id]
  );
  if (!row || (row.created_by !== user.id && user.role !== 'admin')) throw notFound('Bulk job');
  return row;
}

export async function getBulkJob(db: Db, actor: Actor, id: number): Promise<BulkJob> {
  return presentJob(await visibleJob(db, actor.user, id));
}

export async function listBulkJobs(
  db: Db,
  actor: Actor,
  query: { mine: boolean; limit: number }
): Promise<{ jobs: BulkJob[] }> {
  if (!query.mine && actor.user.role !== 'admin')
    throw new AppError('forbidden', 'Only admins see everyone’s bulk jobs');
  const rows = await db.query<BulkJobRow>(
    query.mine
      ? `SELECT * FROM bulk_jobs WHERE created_by = $2 ORDER BY id DESC LIMIT $1`
      : `SELECT * FROM bulk_jobs ORDER BY id DESC LIMIT $1`,
    query.mine ? [query.limit, actor.user.id] : [query.limit]
  );
  return { jobs: rows.map(presentJob) };
}

/**
 * Stops a job between two batches. The job's row is locked by every batch while it runs, so this
 * waits for the batch in hand (one short transaction) and then ends the job: the counts it
 * answers with are final. The ids it had not reached are dropped.
 */
export async function cancelBulkJob(db: Db, actor: Actor, id: number): Promise<BulkJob> {
  return db.transaction(async (t) => {
    const row = await visibleJob(t, actor.user, id, true);
    if (isFinished(row.state)) return presentJob(row);
    const [cancelled] = await t.query<BulkJobRow>(
      `UPDATE bulk_jobs SET state = 'cancelled', finished_at = now() WHERE id = $1 RETURNING *`,
      [id]
    );
    await t.query(`DELETE FROM bulk_job_items WHERE job_id = $1`, [id]);
    await t.query(`DELETE FROM bulk_job_files WHERE job_id = $1`, [id]);
    await auditJob(t, cancelled, actor.user.id);
    return presentJob(cancelled);
  });
}

/**
 * What a job's audit row keeps: what was asked, by whom, over which rows, and how it went. Its id
 * is the row's target, its state the action, and the times and the link are the audit row's own.
 */
function jobAuditDetails(row: BulkJobRow): Record<string, unknown> {
  const job = presentJob(row);
  return {
    entity: job.entity,
    action: job.action,
    params: job.params,
    selection: job.selection,
    createdBy: job.createdBy,
    total: job.total,
    processed: job.processed,
    updated: job.updated,
    skipped: job.skipped,
    failed: job.failed,
    reasons: job.reasons,
    ...(job.error ? { error: job.error } : {})
  };
}

/** The one audit row of a job, written with its final state. */
export async function auditJob(db: Db, row: BulkJobRow, actorUserId = row.created_by): Promise<void> {
  await audit(db, {
    action: `bulk.${row.state}`,
    actorUserId,
    targetType: 'bulk_job',
    targetId: row.id,
    details: jobAuditDetails(row)
  });
}

/**
 * The CSV of a finished export job, part by part (constant memory however big): its creator or
 * an admin may download it. Parts are read one at a time as the response is written.
 */
export async function openExport(
  db: Db,
  actor: Actor,
  id: number
): Promise<{ fileName: string; parts: AsyncIterable<Uint8Array> }> {
  const row = await visibleJob(db, actor.user, id);
  if (row.action !== 'export') throw notFound('Export');
  if (row.state !== 'done') throw new AppError('conflict', 'The export is not ready yet');
  const [{ count }] = await db.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM bulk_job_files WHERE job_id = $1`,
    [id]
  );
  return {
    fileName: `pulse-${row.entity}-export-${id}.csv`,
    parts: (async function* () {
      for (let part = 0; part < count; part++) {
        const [file] = await db.query<{ data: Buffer }>(
          `SELECT data FROM bulk_job_files WHERE job_id = $1 AND part = $2`,
          [id, part]
        );
        if (file) yield new Uint8Array(file.data);
      }
    })()
  };
}
