import type { Actor } from '../auth/actor.js';
import type { Auth } from '../auth/lucia.js';
import { verifyDecoy, verifyPassword } from '../auth/password.js';
import type { Db } from '../data/db.js';
import { AppError } from '../errors.js';
import type { UserWithTeam } from '../presenters/user.js';
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

/** What signing in needs of the server besides the database: sessions, and the throttle's limits. */
export interface SignIn {
  auth: Auth;
  limits: ThrottleLimits;
}

const INVALID = () => new AppError('unauthenticated', 'Email or password is incorrect');

type UserRow = Omit<UserWithTeam, 'team'> & {
  active: boolean;
  password_hash: string;
  team_id: number | null;
  team_name: string | null;
};

const USER_WITH_TEAM = `SELECT u.id, u.email, u.name, u.role, u.status, u.active, u.password_hash,
                               t.id AS team_id, t.name AS team_name
                          FROM users u LEFT JOIN teams t ON t.id = u.team_id`;

const withTeam = (r: UserRow): UserWithTeam => ({
  id: r.id,
  email: r.email,
  name: r.name,
  role: r.role,
  status: r.status,
  team: r.team_id === null ? null : { id: r.team_id, name: r.team_name ?? '' }
});

export async function login(db: Db, { auth, limits }: SignIn, input: LoginInput) {
  const [user] = await db.query<UserRow>(`${USER_WITH_TEAM} WHERE u.email = $1`, [input.email]);
  // Recorded before the password is checked, so that simultaneous guesses cannot all get in.
  const { attemptId, retryAfter } = await beginLoginAttempt(
    db,
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
    ? (await verifyPassword(user.password_hash, input.password)) && user.active
    : await verifyDecoy(input.password);
  if (!ok || !user) {
    await audit(db, {
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
  await audit(db, {
    action: 'auth.login',
    actorUserId: user.id,
    targetType: 'user',
    targetId: user.id,
    ip: input.ip,
    details: { attempt: attemptId }
  });
  return { user: withTeam(user), session };
}

export async function logout(db: Db, actor: Actor, { auth, sessionId }: { auth: Auth; sessionId: string }) {
  await auth.invalidateSession(sessionId);
  await audit(db, {
    action: 'auth.logout',
    actorUserId: actor.user.id,
    targetType: 'user',
    targetId: actor.user.id,
    ip: actor.ip
  });
}

export async function currentUser(db: Db, actor: Actor): Promise<UserWithTeam> {
  const [user] = await db.query<UserRow>(`${USER_WITH_TEAM} WHERE u.id = $1`, [actor.user.id]);
  if (!user) throw new AppError('unauthenticated', 'Sign in to continue');
  return withTeam(user);
}
