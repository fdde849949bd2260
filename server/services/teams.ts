import type { Team as TeamDto } from '#shared/schemas/people.js';
import type { Actor } from '../auth/actor.js';
import type { Db } from '../data/db.js';
import { notFound } from '../errors.js';
import { audit } from './audit.js';

/** Every team with its active members, by name; or just the one with `id`. */
export async function listTeams(db: Db, id?: number): Promise<TeamDto[]> {
  return db.query<TeamDto>(
    `SELECT t.id, t.name, t.auto_assign AS "autoAssign", count(u.id) FILTER (WHERE u.active)::int AS members
       FROM teams t LEFT JOIN users u ON u.team_id = t.id
      WHERE $1::int IS NULL OR t.id = $1
      GROUP BY t.id ORDER BY t.name`,
    [id ?? null]
  );
}

export async function createTeam(db: Db, actor: Actor, { name }: { name: string }): Promise<TeamDto> {
  return db.transaction(async (t) => {
    const [team] = await t.query<{ id: number; name: string; auto_assign: boolean }>(
      `INSERT INTO teams (name) VALUES ($1) RETURNING id, name, auto_assign`,
      [name]
    );
    await audit(t, {
      action: 'team.created',
      actorUserId: actor.user.id,
      targetType: 'team',
      targetId: team.id,
      ip: actor.ip,
      details: { name }
    });
    return { id: team.id, name: team.name, members: 0, autoAssign: team.auto_assign };
  });
}

/** Renames a team, or turns its automatic round-robin assignment on or off. */
export async function updateTeam(
  db: Db,
  actor: Actor,
  { id, changes }: { id: number; changes: { name?: string; autoAssign?: boolean } }
): Promise<TeamDto> {
  await db.transaction(async (t) => {
    const [before] = await t.query<{ name: string; auto_assign: boolean }>(
      `SELECT name, auto_assign FROM teams WHERE id = $1 FOR UPDATE`,
      [id]
    );
    if (!before) throw notFound('Team');
    // Like a model's save: no statement (and no change on the live path) when nothing differs.
    if (
      (changes.name !== undefined && changes.name !== before.name) ||
      (changes.autoAssign !== undefined && changes.autoAssign !== before.auto_assign)
    ) {
      await t.query(
        `UPDATE teams SET name = coalesce($2, name), auto_assign = coalesce($3, auto_assign) WHERE id = $1`,
        [id, changes.name ?? null, changes.autoAssign ?? null]
      );
    }
    await audit(t, {
      action: 'team.updated',
      actorUserId: actor.user.id,
      targetType: 'team',
      targetId: id,
      ip: actor.ip,
      details: { before: { name: before.name, autoAssign: before.auto_assign }, changes }
    });
  });
  const [updated] = await listTeams(db, id);
  return updated;
}
