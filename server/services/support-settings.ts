import type { z } from 'zod';
import type { AgentStatus } from '#shared/enums.js';
import type { Agent, CannedBody, CannedResponse, SlaPolicy } from '#shared/schemas/tickets.js';
import type { Actor } from '../auth/actor.js';
import { isManager } from '../auth/policies.js';
import type { Db } from '../data/db.js';
import { AppError, notFound } from '../errors.js';
import { audit } from './audit.js';
import { OPEN_WORK } from './sql.js';

// Canned responses -------------------------------------------------------------------------

const presentCanned = (r: {
  id: number;
  title: string;
  body: string;
  team_id: number | null;
  updated_at: Date;
}): CannedResponse => ({
  id: r.id,
  title: r.title,
  body: r.body,
  teamId: r.team_id,
  updatedAt: new Date(r.updated_at).toISOString()
});

/** Shared responses plus the user's team's own; searched by title and text. */
export async function listCanned(db: Db, actor: Actor, { q }: { q?: string }): Promise<CannedResponse[]> {
  const { user } = actor;
  const rows = await db.query<Parameters<typeof presentCanned>[0]>(
    `SELECT id, title, body, team_id, updated_at FROM canned_responses
      WHERE ($1 OR team_id IS NULL OR team_id = $2)
        AND ($3::text IS NULL OR search @@ plainto_tsquery('simple', $3) OR title ILIKE '%' || $3 || '%')
      ORDER BY title LIMIT 100`,
    [isManager(user), user.teamId ?? -1, q ?? null]
  );
  return rows.map(presentCanned);
}

/** Creates a canned response, or replaces the one with `id`. */
export async function saveCanned(
  db: Db,
  actor: Actor,
  { id, body: input }: { id?: number; body: z.output<typeof CannedBody> }
): Promise<CannedResponse> {
  return db.transaction(async (t) => {
    const [row] = id
      ? await t.query<Parameters<typeof presentCanned>[0]>(
          `UPDATE canned_responses SET title = $2, body = $3, team_id = $4 WHERE id = $1 RETURNING id, title, body, team_id, updated_at`,
          [id, input.title, input.body, input.teamId]
        )
      : await t.query<Parameters<typeof presentCanned>[0]>(
          `INSERT INTO canned_responses (title, body, team_id, created_by) VALUES ($1, $2, $3, $4) RETURNING id, title, body, team_id, updated_at`,
          [input.title, input.body, input.teamId, actor.user.id]
        );
    if (!row) throw notFound('Canned response');
    await audit(t, {
      action: id ? 'canned.updated' : 'canned.created',
      actorUserId: actor.user.id,
      targetType: 'canned_response',
      targetId: row.id,
      ip: actor.ip
    });
    return presentCanned(row);
  });
}

export async function deleteCanned(db: Db, actor: Actor, id: number): Promise<void> {
  await db.transaction(async (t) => {
    const rows = await t.query(`DELETE FROM canned_responses WHERE id = $1 RETURNING id`, [id]);
    if (rows.length === 0) throw notFound('Canned response');
    await audit(t, {
      action: 'canned.deleted',
      actorUserId: actor.user.id,
      targetType: 'canned_response',
      targetId: id,
      ip: actor.ip
    });
  });
}

// SLA policies -----------------------------------------------------------------------------

export async function listSlaPolicies(db: Db): Promise<SlaPolicy[]> {
  const rows = await db.query<{
    priority: SlaPolicy['priority'];
    first_response_minutes: number;
    resolution_minutes: number;
  }>(`SELECT priority, first_response_minutes, resolution_minutes FROM sla_policies ORDER BY priority DESC`);
  return rows.map((r) => ({
    priority: r.priority,
    firstResponseMinutes: r.first_response_minutes,
    resolutionMinutes: r.resolution_minutes
  }));
}

/** New targets apply to tickets created, or re-prioritised, from now on. */
export async function saveSlaPolicies(db: Db, actor: Actor, policies: SlaPolicy[]): Promise<SlaPolicy[]> {
  await db.transaction(async (t) => {
    for (const p of policies) {
      await t.query(
        `UPDATE sla_policies SET first_response_minutes = $2, resolution_minutes = $3, updated_at = now(), updated_by = $4 WHERE priority = $1`,
        [p.priority, p.firstResponseMinutes, p.resolutionMinutes, actor.user.id]
      );
    }
    await audit(t, {
      action: 'sla.updated',
      actorUserId: actor.user.id,
      targetType: 'sla_policies',
      ip: actor.ip,
      details: { policies }
    });
  });
  return listSlaPolicies(db);
}

// Agents and availability ------------------------------------------------------------------

export async function listAgents(db: Db, actor: Actor, { teamId }: { teamId?: number }): Promise<Agent[]> {
  const { user } = actor;
  if (!isManager(user) && teamId !== undefined && teamId !== user.teamId)
    throw new AppError('forbidden', 'Agents see their own team');
  const team = isManager(user) ? (teamId ?? null) : user.teamId;
  const rows = await db.query<{
    id: number;
    name: string;
    team_id: number | null;
    status: AgentStatus;
    capacity: number;
    open: number;
  }>(
    `SELECT u.id, u.name, u.team_id, u.status, u.capacity,
            (SELECT count(*) FROM tickets t WHERE t.assignee_id = u.id AND t.${OPEN_WORK})::int AS open
       FROM users u
      WHERE u.active AND u.role = 'agent' AND ($1::int IS NULL OR u.team_id = $1)
      ORDER BY u.name`,
    [team]
  );
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    teamId: r.team_id,
    status: r.status,
    capacity: r.capacity,
    openTickets: r.open
  }));
}

/** Going away hands back unanswered tickets (the database does it, whoever changes the status). */
export async function setAvailability(db: Db, actor: Actor, status: AgentStatus): Promise<AgentStatus> {
  await db.query(`UPDATE users SET status = $2::agent_status WHERE id = $1`, [actor.user.id, status]);
  return status;
}
