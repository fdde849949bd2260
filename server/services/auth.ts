import type { Sequelize } from 'sequelize';
import type { Auth } from '../auth/lucia.js';
import { verifyDecoy, verifyPassword } from '../auth/password.js';
import { AppError } from '../errors.js';
import { Team, User } from '../models/index.js';
import { audit } from './audit.js';
import { beginLoginAttempt, type ThrottleLimits } from './login-throttle.js';

export interface LoginInput {
  email: string;
  password: string;
  ip: string | null;
  userAgent: string | null;
  /** The session the browser held before, replaced by a new one (no session fixation). */
  previousSessionId?: string;
}

const INVALID = () => new AppError('unauthenticated', 'Email or password is incorrect');

export async function login(sequelize: Sequelize, auth: Auth, limits: ThrottleLimits, input: LoginInput) {
  const user = await User.findOne({ where: { email: input.email }, include: [{ model: Team, as: 'team' }] });
  // Recorded before the password is checked, so that simultaneous guesses cannot all get in.
  const { attemptId, retryAfter } = await beginLoginAttempt(
    sequelize,
    { email: input.email, ip: input.ip, userId: user?.id ?? null },
    limits
  );
  if (attemptId === null) {
    throw new AppError(
      'too_many_requests',
      `Too many failed sign-ins. Try again in ${Math.ceil(retryAfter / 60)} min.`,
      { retryAfter },
      {
        'Retry-After': String(retryAfter)
      }
    );
  }

  // Unknown and inactive accounts pay the same hashing cost and get the same answer.
  const ok = user
    ? (await verifyPassword(user.passwordHash, input.password)) && user.active
    : await verifyDecoy(input.password);
  if (!ok || !user) {
    await audit({
      action: 'auth.login_failed',
      actorUserId: user?.id ?? null,
      targetType: 'email',
      targetId: input.email,
      ip: input.ip,
      details: { attempt: attemptId }
    });
    throw INVALID();
  }

  if (input.previousSessionId) await auth.invalidateSession(input.previousSessionId);
  const session = await auth.createSession(user.id, { ip: input.ip, userAgent: input.userAgent });
  // Naming the attempt takes it out of the failures the throttle counts.
  await audit({
    action: 'auth.login',
    actorUserId: user.id,
    targetType: 'user',
    targetId: user.id,
    ip: input.ip,
    details: { attempt: attemptId }
  });
  return { user: user as User & { team: Team | null }, session };
}

export async function logout(auth: Auth, sessionId: string, userId: number, ip: string | null) {
  await auth.invalidateSession(sessionId);
  await audit({ action: 'auth.logout', actorUserId: userId, targetType: 'user', targetId: userId, ip });
}

export async function currentUser(userId: number) {
  const user = await User.findByPk(userId, { include: [{ model: Team, as: 'team' }] });
  if (!user) throw new AppError('unauthenticated', 'Sign in to continue');
  return user as User & { team: Team | null };
}
