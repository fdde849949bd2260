import { isManagerRole } from '#shared/rules/people.js';
import { listStateSchema, type ListEntity, type ListState } from '#shared/lists/query.js';
import type { SavedView, ViewVisibility } from '#shared/lists/views.js';
import type { Db } from '../../data/db.js';
import { AppError, notFound } from '../../errors.js';
import type { Actor } from '../../http/env.js';
import { audit } from '../audit.js';

// Saved views. Who sees a view: its owner; the owner's team when it is shared with the team;
// everyone when a manager or admin shared it with everyone. Who changes it: its owner, and for a
// shared view also managers and admins. A view the caller cannot see is a 404.

interface ViewRow {
  id: number;
  owner_id: number;
  owner_name: string;
  team_id: number | null;
  entity: ListEntity;
  name: string;
  state: ListState;
  visibility: ViewVisibility;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `v.id, v.owner_id, u.name AS owner_name, v.team_id, v.entity, v.name, v.state, v.visibility,
  v.created_at, v.updated_at`;

/** Views the actor may see, as a SQL condition on `v` with the actor's id and team as $1, $2. */
const VISIBLE = `(v.owner_id = $1 OR v.visibility = 'everyone' OR (v.visibility = 'team' AND v.team_id = $2))`;

const canEdit = (actor: Actor, row: Pick<ViewRow, 'owner_id' | 'visibility'>) =>
  row.owner_id === actor.user.id || (row.visibility !== 'personal' && isManagerRole(actor.user.role));

function present(actor: Actor, row: ViewRow): SavedView {
  return {
    id: row.id,
    name: row.name,
    entity: row.entity,
    state: row.state,
    visibility: row.visibility,
    shared: row.visibility !== 'personal',
    ownerId: row.owner_id,
    ownerName: row.owner_name,
    teamId: row.team_id,
    editable: canEdit(actor, row),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString()
  };
}

function checkVisibility(actor: Actor, visibility: ViewVisibility) {
  if (visibility === 'everyone' && !isManagerRole(actor.user.role))
    throw new AppError('forbidden', 'Only managers and admins share a view with everyone');
  if (visibility === 'team' && actor.user.teamId === null)
    throw new AppError('unprocessable', 'You are in no team to share this view with');
}

const auditView = (db: Db, actor: Actor, action: string, id: number, details: Record<string, unknown>) =>
  audit(db, {
    action,
    actorUserId: actor.user.id,
    targetType: 'saved_view',
    targetId: id,
    ip: actor.ip,
    details
  });

async function readView(db: Db, actor: Actor, id: number, lock = false): Promise<ViewRow> {
  const [row] = await db.query<ViewRow>(
    `SELECT ${COLUMNS} FROM saved_views v JOIN users u ON u.id = v.owner_id
      WHERE v.id = $3 AND ${VISIBLE}${lock ? ' FOR UPDATE OF v' : ''}`,
    [actor.user.id, actor.user.teamId, id]
  );
  if (!row) throw notFound('View');
  return row;
}

export async function listViews(db: Db, actor: Actor, entity: ListEntity): Promise<SavedView[]> {
  const rows = await db.query<ViewRow>(
    `SELECT ${COLUMNS} FROM saved_views v JOIN users u ON u.id = v.owner_id
      WHERE v.entity = $3 AND ${VISIBLE}
      ORDER BY (v.owner_id = $1) DESC, lower(v.name), v.id`,
    [actor.user.id, actor.user.teamId, entity]
  );
  return rows.map((r) => present(actor, r));
}

export async function createView(
  db: Db,
  actor: Actor,
  input: { name: string; entity: ListEntity; state: ListState; visibility: ViewVisibility }
): Promise<SavedView> {
  checkVisibility(actor, input.visibility);
  return db.transaction(async (t) => {
    const [{ id }] = await t.query<{ id: number }>(
      `INSERT INTO saved_views (owner_id, team_id, entity, name, state, visibility)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6) RETURNING id`,
      [
        actor.user.id,
        input.visibility === 'team' ? actor.user.teamId : null,
        input.entity,
        input.name,
        JSON.stringify(input.state),
        input.visibility
      ]
    );
    await auditView(t, actor, 'view.created', id, {
      entity: input.entity,
      name: input.name,
      visibility: input.visibility
    });
    return present(actor, await readView(t, actor, id));
  });
}

export async function updateView(
  db: Db,
  actor: Actor,
  id: number,
  patch: { name?: string; state?: unknown; shared?: boolean; visibility?: ViewVisibility }
): Promise<SavedView> {
  return db.transaction(async (t) => {
    const view = await readView(t, actor, id, true);
    if (!canEdit(actor, view)) throw new AppError('forbidden', 'Only its owner changes this view');
    let state: ListState | undefined;
    if (patch.state !== undefined) {
      const parsed = listStateSchema(view.entity).safeParse(patch.state);
      if (!parsed.success)
        throw new AppError(
          'validation_failed',
          `Invalid state: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'state'} ${i.message}`).join('; ')}`,
          parsed.error.issues.map((i) => ({ path: ['state', ...i.path].join('.'), message: i.message }))
        );
      state = parsed.data as ListState;
    }
    const visibility =
      patch.visibility ?? (patch.shared === undefined ? view.visibility : patch.shared ? 'team' : 'personal');
    if (visibility !== view.visibility) {
      if (view.owner_id !== actor.user.id && visibility === 'personal')
        throw new AppError('forbidden', 'Only its owner makes a view personal');
      checkVisibility(actor, visibility);
    }
    const teamId =
      visibility === 'team' ? (view.visibility === 'team' ? view.team_id : actor.user.teamId) : null;
    await t.query(
      `UPDATE saved_views SET name = coalesce($2, name), state = coalesce($3::jsonb, state),
              visibility = $4, team_id = $5
        WHERE id = $1`,
      [id, patch.name ?? null, state ? JSON.stringify(state) : null, visibility, teamId]
    );
    await auditView(t, actor, 'view.updated', id, {
      ...(patch.name !== undefined ? { name: { old: view.name, new: patch.name } } : {}),
      ...(state ? { state: true } : {}),
      ...(visibility !== view.visibility ? { visibility: { old: view.visibility, new: visibility } } : {})
    });
    return present(actor, await readView(t, actor, id));
  });
}

export async function deleteView(db: Db, actor: Actor, id: number): Promise<void> {
  await db.transaction(async (t) => {
    const view = await readView(t, actor, id, true);
    if (!canEdit(actor, view)) throw new AppError('forbidden', 'Only its owner deletes this view');
    await t.query(`DELETE FROM saved_views WHERE id = $1`, [id]);
    await auditView(t, actor, 'view.deleted', id, { entity: view.entity, name: view.name });
  });
}
