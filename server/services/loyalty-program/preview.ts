import type { PreviewJob, PreviewResult } from '#shared/schemas/loyalty-editor.js';
import { ProgramConfig } from '#shared/schemas/loyalty-program.js';
import type { Db } from '../../data/db.js';
import { AppError, notFound } from '../../errors.js';
import type { Actor } from '../../http/env.js';
import { ensureFresh } from '../analytics/rollups.js';
import { REPLAY_MONTHS, replay, termsOf } from './replay.js';
import { currentVersion, type VersionRow } from './versions.js';

// The impact preview as a server job: the draft replayed over the last 12 months against the
// version in force (replay.ts). It runs in the server process that accepted it, in one
// transaction on one connection (what multipliers and bonuses add lives in a temporary table),
// and writes its progress to loyalty_preview_jobs after each range of members, outside that
// transaction, so any process answers its status; `onProgress` tells the starter's screens at once.

/** Whoever should hear how a preview is going (the route wires the socket hub's user room). */
export type PreviewListener = (userId: number, job: PreviewJob) => void;

interface JobRow {
  id: string;
  draft_id: number;
  draft_version: number;
  base_id: number;
  created_by: number | null;
  state: PreviewJob['state'];
  progress: number;
  result: PreviewResult | null;
  error: string | null;
  created_at: Date;
  finished_at: Date | null;
}

/** A replay statement may take this long before the job gives up. */
const STATEMENT_TIMEOUT = '2min';
/** Steps of the bar: the rollups made fresh, then the members replayed in REPLAY_STEPS ranges. */
const REPLAY_STEPS = 10;
const STEPS = REPLAY_STEPS + 1;

function presentJob(row: JobRow): PreviewJob {
  return {
    id: Number(row.id),
    draftId: row.draft_id,
    draftVersion: row.draft_version,
    baseId: row.base_id,
    state: row.state,
    progress: row.progress,
    result: row.result,
    error: row.error,
    createdAt: row.created_at.toISOString(),
    finishedAt: row.finished_at ? row.finished_at.toISOString() : null
  };
}

export async function getPreview(db: Db, id: number): Promise<PreviewJob> {
  const [row] = await db.query<JobRow>(`SELECT * FROM loyalty_preview_jobs WHERE id = $1`, [id]);
  if (!row) throw notFound('Preview');
  return presentJob(row);
}

/**
 * Starts a preview of the saved draft. Answers at once with the job; the work goes on after
 * (`done` resolves when it has finished, for tests and shutdown).
 */
export async function startPreview(
  db: Db,
  actor: Actor,
  timezone: string,
  onProgress: PreviewListener
): Promise<{ job: PreviewJob; done: Promise<void> }> {
  const [draft] = await db.query<VersionRow>(`SELECT * FROM loyalty_program_versions WHERE status = 'draft'`);
  if (!draft) throw new AppError('not_found', 'There is no draft to preview; save one first');
  const base = await currentVersion(db);
  const [row] = await db.query<JobRow>(
    `INSERT INTO loyalty_preview_jobs (draft_id, draft_version, base_id, created_by)
     VALUES ($1, $2, $3, $4) RETURNING *`,
    [draft.id, draft.version, base.id, actor.user.id]
  );
  const job = presentJob(row);
  const done = runPreview(
    db,
    job,
    timezone,
    ProgramConfig.parse(base.config),
    ProgramConfig.parse(draft.config),
    (j) => onProgress(actor.user.id, j)
  );
  return { job, done };
}

async function runPreview(
  db: Db,
  job: PreviewJob,
  timezone: string,
  current: ProgramConfig,
  draft: ProgramConfig,
  tell: (job: PreviewJob) => void
): Promise<void> {
  const started = performance.now();
  const progress = async (step: number) => {
    const [row] = await db.query<JobRow>(
      `UPDATE loyalty_preview_jobs SET progress = $2 WHERE id = $1 AND state = 'running' RETURNING *`,
      [job.id, Math.min(99, Math.round((step / STEPS) * 100))]
    );
    if (row) tell(presentJob(row));
  };
  try {
    tell(job);
    const outcome = await db.transaction(async (t) => {
      await t.query(`SET LOCAL statement_timeout = '${STATEMENT_TIMEOUT}'`);
      await t.query(`SET LOCAL work_mem = '256MB'`);
      await t.query(`SET LOCAL jit = off`);
      await ensureFresh(t, timezone);
      await progress(1);
      return replay(t, timezone, termsOf(current), termsOf(draft), {
        steps: REPLAY_STEPS,
        onStep: (step) => progress(step + 1)
      });
    });
    const result: PreviewResult = {
      ...outcome,
      months: REPLAY_MONTHS,
      elapsedMs: Math.round(performance.now() - started)
    };
    const [row] = await db.query<JobRow>(
      `UPDATE loyalty_preview_jobs SET state = 'done', progress = 100, result = $2::jsonb, finished_at = now()
        WHERE id = $1 RETURNING *`,
      [job.id, JSON.stringify(result)]
    );
    tell(presentJob(row));
  } catch (err) {
    const [row] = await db
      .query<JobRow>(
        `UPDATE loyalty_preview_jobs SET state = 'failed', error = $2, finished_at = now()
          WHERE id = $1 RETURNING *`,
        [job.id, (err as Error).message.slice(0, 500)]
      )
      .catch(() => [] as JobRow[]);
    if (row) tell(presentJob(row));
  }
}
