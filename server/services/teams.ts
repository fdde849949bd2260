import { QueryTypes } from 'sequelize';
import type { Team as TeamDto } from '#shared/schemas/people.js';
import { notFound } from '../errors.js';
import { Team } from '../models/index.js';
import { audit } from './audit.js';
import type { Actor } from '../http/env.js';

/** Every team with its active members, by name; or just the one with `id`. */
export async function listTeams(id?: number): Promise<TeamDto[]> {
  return Team.sequelize!.query<TeamDto>(
    `SELECT t.id, t.name, t.auto_assign AS "autoAssign", count(u.id) FILTER (WHERE u.active)::int AS members
       FROM teams t LEFT JOIN users u ON u.team_id = t.id
      WHERE $1::int IS NULL OR t.id = $1
      GROUP BY t.id ORDER BY t.name`,
    { bind: [id ?? null], type: QueryTypes.SELECT }
  );
}

export async function createTeam(name: string, actor: Actor): Promise<TeamDto> {
  const team = await Team.create({ name });
  await audit({
    action: 'team.created',
    actorUserId: actor.user.id,
    targetType: 'team',
    targetId: team.id,
    ip: actor.ip,
    details: { name }
  });
  return { id: team.id, name: team.name, members: 0, autoAssign: team.autoAssign };
}

/** Renames a team, or turns its automatic round-robin assignment on or off. */
export async function updateTeam(
  id: number,
  changes: { name?: string; autoAssign?: boolean },
  actor: Actor
): Promise<TeamDto> {
  const team = await Team.findByPk(id);
  if (!team) throw notFound('Team');
  const before = { name: team.name, autoAssign: team.autoAssign };
  await team.update(changes);
  await audit({
    action: 'team.updated',
    actorUserId: actor.user.id,
    targetType: 'team',
    targetId: id,
    ip: actor.ip,
    details: { before, changes }
  });
  const [updated] = await listTeams(id);
  return updated;
}
