import type { z } from 'zod';
import type { UserRole } from '#shared/enums.js';
import type { AdminUser, CreateUserBody, UpdateUserBody } from '#shared/schemas/people.js';
import type { Actor } from '../auth/actor.js';
import { hashPassword } from '../auth/password.js';
import type { Db } from '../data/db.js';
import { AppError, notFound } from '../errors.js';
import { audit } from './audit.js';

interface UserRow {
  id: number;
  email: string;
  name: string;
  role: UserRole;
  team_id: number | null;
  active: boolean;
  created_at: Date;
}

const COLUMNS = `id, email, name, role, team_id, active, created_at`;

const present = (u: UserRow): AdminUser => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  teamId: u.team_id,
  active: u.active,
  createdAt: new Date(u.created_at).toISOString()
});

export async function listUsers(db: Db): Promise<AdminUser[]> {
  return (await db.query<UserRow>(`SELECT ${COLUMNS} FROM users ORDER BY name ASC`)).map(present);
}

export async function createUser(
  db: Db,
  actor: Actor,
  input: z.output<typeof CreateUserBody>
): Promise<AdminUser> {
  const passwordHash = await hashPassword(input.password);
  return db.transaction(async (t) => {
    const [user] = await t.query<UserRow>(
      `INSERT INTO users (email, name, role, team_id, password_hash) VALUES ($1, $2, $3::user_role, $4, $5)
       RETURNING ${COLUMNS}`,
      [input.email, input.name, input.role, input.teamId, passwordHash]
    );
    await audit(t, {
      action: 'user.created',
      actorUserId: actor.user.id,
      targetType: 'user',
      targetId: user.id,
      ip: actor.ip,
      details: { role: user.role }
    });
    return present(user);
  });
}

/** Role, team and active changes take effect on the user's open sockets through the change log. */
export async function updateUser(
  db: Db,
  actor: Actor,
  { id, changes }: { id: number; changes: z.output<typeof UpdateUserBody> }
): Promise<AdminUser> {
  if (id === actor.user.id && (changes.active === false || (changes.role && changes.role !== 'admin'))) {
    throw new AppError('unprocessable', 'You cannot deactivate yourself or give up your own admin role');
  }
  return db.transaction(async (t) => {
    const [before] = await t.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1 FOR UPDATE`, [id]);
    if (!before) throw notFound('User');
    // Like a model's save: no statement (and no change on the live path) when nothing differs.
    const differs =
      (changes.name !== undefined && changes.name !== before.name) ||
      (changes.role !== undefined && changes.role !== before.role) ||
      (changes.teamId !== undefined && changes.teamId !== before.team_id) ||
      (changes.active !== undefined && changes.active !== before.active);
    const [user] = differs
      ? await t.query<UserRow>(
          `UPDATE users SET name = coalesce($2, name), role = coalesce($3::user_role, role),
                  team_id = CASE WHEN $4 THEN $5::int ELSE team_id END, active = coalesce($6, active)
            WHERE id = $1 RETURNING ${COLUMNS}`,
          [
            id,
            changes.name ?? null,
            changes.role ?? null,
            changes.teamId !== undefined,
            changes.teamId ?? null,
            changes.active ?? null
          ]
        )
      : [before];
    await audit(t, {
      action: 'user.updated',
      actorUserId: actor.user.id,
      targetType: 'user',
      targetId: id,
      ip: actor.ip,
      details: { before: { role: before.role, teamId: before.team_id, active: before.active }, changes }
    });
    return present(user);
  });
}
