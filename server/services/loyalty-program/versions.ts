import type {
  DraftState,
  PublishBody,
  PublishResult,
  SaveDraftBody
} from '#shared/schemas/loyalty-editor.js';
import { ProgramConfig, type ProgramVersion } from '#shared/schemas/loyalty-program.js';
import type { Db } from '../../data/db.js';
import { AppError, notFound } from '../../errors.js';
import type { Actor } from '../../http/env.js';
import { audit } from '../audit.js';

// Program versions as the editor sees them: the history, the one draft, publishing it. The
// database keeps published versions immutable (loyalty_program_versions_guard, migration 0026)
// and allows one draft; publishing is one conditional UPDATE, so of two concurrent publishes
// one wins and the other finds no draft left to publish (409).

export interface VersionRow {
  id: number;
  number: number;
  status: 'draft' | 'published';
  config: unknown;
  effective_at: Date | null;
  published_at: Date | null;
  published_by: number | null;
  created_at: Date;
  version: number;
}

const iso = (d: Date | null) => (d === null ? null : new Date(d).toISOString());

export function presentVersion(row: VersionRow): ProgramVersion {
  return {
    id: row.id,
    version: row.number,
    status: row.status,
    effectiveAt: iso(row.effective_at),
    publishedAt: iso(row.published_at),
    publishedBy: row.published_by,
    // Stored by this service after validation (or the migration's starting program).
    config: row.config as ProgramConfig,
    createdAt: iso(row.created_at)!
  };
}

export async function listVersions(db: Db): Promise<{ versions: ProgramVersion[]; currentId: number }> {
  const rows = await db.query<VersionRow>(`SELECT * FROM loyalty_program_versions ORDER BY number DESC`);
  const [current] = await db.query<{ id: number }>(`SELECT loyalty_program_version_at(now()) AS id`);
  return { versions: rows.map(presentVersion), currentId: current.id };
}

export async function getVersion(db: Db, id: number): Promise<ProgramVersion> {
  const [row] = await db.query<VersionRow>(`SELECT * FROM loyalty_program_versions WHERE id = $1`, [id]);
  if (!row) throw notFound('Program version');
  return presentVersion(row);
}

/** The version in force now. */
export async function currentVersion(db: Db): Promise<VersionRow> {
  const [row] = await db.query<VersionRow>(
    `SELECT * FROM loyalty_program_versions WHERE id = loyalty_program_version_at(now())`
  );
  return row;
}

async function draftRow(db: Db): Promise<VersionRow | undefined> {
  const [row] = await db.query<VersionRow>(`SELECT * FROM loyalty_program_versions WHERE status = 'draft'`);
  return row;
}

export async function getDraft(db: Db): Promise<DraftState> {
  const [draft, current] = await Promise.all([draftRow(db), currentVersion(db)]);
  return {
    draft: draft ? { ...presentVersion(draft), rowVersion: draft.version } : null,
    current: presentVersion(current)
  };
}

/**
 * Saves the draft, creating it when there is none. With `version`, an edit made over someone
 * else's newer save is refused (409) instead of silently replacing it.
 */
export async function saveDraft(db: Db, actor: Actor, input: SaveDraftBody): Promise<DraftState> {
  const config = JSON.stringify(input.config);
  await db.transaction(async (t) => {
    const existing = await draftRow(t);
    if (!existing) {
      if (input.version !== undefined)
        throw new AppError('conflict', 'The draft was published or discarded meanwhile; reload it');
      await t.query(
        `INSERT INTO loyalty_program_versions (number, status, config, created_by)
         VALUES ((SELECT coalesce(max(number), 0) + 1 FROM loyalty_program_versions), 'draft', $1::jsonb, $2)`,
        [config, actor.user.id]
      );
    } else {
      const updated = await t.query(
        `UPDATE loyalty_program_versions SET config = $2::jsonb
          WHERE id = $1 AND status = 'draft' AND ($3::int IS NULL OR version = $3) RETURNING id`,
        [existing.id, config, input.version ?? null]
      );
      if (updated.length === 0)
        throw new AppError(
          'stale_version',
          'Someone else saved this draft meanwhile; reload to see their changes'
        );
    }
    await audit(t, {
      action: 'loyalty_program.draft_saved',
      actorUserId: actor.user.id,
      targetType: 'loyalty_program',
      targetId: existing ? String(existing.id) : 'new',
      ip: actor.ip
    });
  });
  return getDraft(db);
}

export async function discardDraft(db: Db, actor: Actor): Promise<void> {
  await db.transaction(async (t) => {
    const rows = await t.query<{ id: number }>(
      `DELETE FROM loyalty_program_versions WHERE status = 'draft' RETURNING id`
    );
    if (rows.length === 0) throw notFound('Draft');
    await audit(t, {
      action: 'loyalty_program.draft_discarded',
      actorUserId: actor.user.id,
      targetType: 'loyalty_program',
      targetId: String(rows[0].id),
      ip: actor.ip
    });
  });
}

/**
 * Every member whose tier `config` would lower keeps it until `until` (a grace row naming the
 * version). Decided as the database decides tiers (loyalty_basis_values and loyalty_tier_of on
 * the members' ledger and orders now, migration 0031), not by the preview's replay, so exactly
 * the members the new version drops are graced; loyalty_account_tier holds them up while the
 * version is in force and the grace lasts, then the schedule drops them (a tier change on the
 * change log). Returns how many members were given grace.
 */
async function grantGrace(t: Db, config: ProgramConfig, versionId: number, until: string): Promise<number> {
  const [row] = await t.query<{ n: number }>(
    `WITH granted AS (
       INSERT INTO loyalty_tier_grace (account_id, version_id, kept_tier, until)
       SELECT a.id, $1, a.tier, $2::timestamptz
         FROM loyalty_accounts a JOIN loyalty_basis_values($3::jsonb, now()) b ON b.account_id = a.id
        WHERE loyalty_tier_of($3::jsonb, b.value) < a.tier
        ORDER BY a.id
       ON CONFLICT (account_id, version_id) DO NOTHING
       RETURNING 1)
     SELECT count(*)::int AS n FROM granted`,
    [versionId, until, JSON.stringify(config)]
  );
  return row.n;
}

/**
 * Publishes the draft: effective now, or at a future moment (never before a version already
 * scheduled, so versions take effect in the order they were published). Members whose tier the
 * new version lowers keep their tier for the program's grace days after it takes effect.
 */
export async function publishDraft(db: Db, actor: Actor, input: PublishBody): Promise<PublishResult> {
  return db.transaction(async (t) => {
    const [when] = await t.query<{ at: Date; latest: Date | null }>(
      `SELECT greatest(now(), coalesce($1::timestamptz, now())) AS at,
              (SELECT max(effective_at) FROM loyalty_program_versions WHERE status = 'published') AS latest`,
      [input.effectiveAt ?? null]
    );
    if (input.effectiveAt && new Date(input.effectiveAt).getTime() < Date.now() - 60_000)
      throw new AppError('validation_failed', 'The effective date is in the past', [
        { path: 'effectiveAt', message: 'Pick now or a moment to come' }
      ]);
    if (when.latest && when.at < when.latest)
      throw new AppError('validation_failed', 'A version already takes effect later than that', [
        { path: 'effectiveAt', message: `Pick a moment after ${when.latest.toISOString()}` }
      ]);
    // The row lock makes a concurrent publish wait; it then finds the draft published and gets none.
    const [row] = await t.query<VersionRow>(
      `UPDATE loyalty_program_versions
          SET status = 'published', effective_at = $3, published_at = now(), published_by = $4
        WHERE id = $1 AND status = 'draft' AND version = $2
        RETURNING *`,
      [input.draftId, input.version, when.at, actor.user.id]
    );
    if (!row)
      throw new AppError(
        'conflict',
        'This draft was published or changed by someone else meanwhile; reload to see the program now'
      );
    const config = ProgramConfig.parse(row.config);
    const graceDays = config.tierDropGraceDays;
    let graced = 0;
    let graceUntil: string | null = null;
    if (graceDays > 0) {
      const [until] = await t.query<{ until: Date }>(
        `SELECT $1::timestamptz + make_interval(days => $2) AS until`,
        [when.at, graceDays]
      );
      graceUntil = until.until.toISOString();
      graced = await grantGrace(t, config, row.id, graceUntil);
    }
    await audit(t, {
      action: 'loyalty_program.published',
      actorUserId: actor.user.id,
      targetType: 'loyalty_program',
      targetId: String(row.id),
      ip: actor.ip,
      details: { number: row.number, effectiveAt: when.at.toISOString(), graced, graceUntil }
    });
    return { version: presentVersion(row), graced, graceUntil };
  });
}
