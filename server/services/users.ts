import type { z } from 'zod';
import type { AdminUser, CreateUserBody, UpdateUserBody } from '#shared/schemas/people.js';
import { hashPassword } from '../auth/password.js';
import { AppError, notFound } from '../errors.js';
import { User } from '../models/index.js';
import { audit } from './audit.js';
import type { Actor } from '../http/env.js';

const present = (u: User): AdminUser => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  teamId: u.teamId,
  active: u.active,
  createdAt: u.createdAt.toISOString()
});

export async function listUsers(): Promise<AdminUser[]> {
  return (await User.findAll({ order: [['name', 'ASC']] })).map(present);
}

export async function createUser(input: z.output<typeof CreateUserBody>, actor: Actor): Promise<AdminUser> {
  const user = await User.create({
    email: input.email,
    name: input.name,
    role: input.role,
    teamId: input.teamId,
    passwordHash: await hashPassword(input.password)
  });
  await audit({
    action: 'user.created',
    actorUserId: actor.user.id,
    targetType: 'user',
    targetId: user.id,
    ip: actor.ip,
    details: { role: user.role }
  });
  return present(user);
}

/** Role, team and active changes take effect on the user's open sockets through the change log. */
export async function updateUser(
  id: number,
  changes: z.output<typeof UpdateUserBody>,
  actor: Actor
): Promise<AdminUser> {
  if (id === actor.user.id && (changes.active === false || (changes.role && changes.role !== 'admin'))) {
    throw new AppError('unprocessable', 'You cannot deactivate yourself or give up your own admin role');
  }
  const user = await User.findByPk(id);
  if (!user) throw notFound('User');
  const before = { role: user.role, teamId: user.teamId, active: user.active };
  await user.update(changes);
  await audit({
    action: 'user.updated',
    actorUserId: actor.user.id,
    targetType: 'user',
    targetId: id,
    ip: actor.ip,
    details: { before, changes }
  });
  return present(user);
}
