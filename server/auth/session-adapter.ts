import { createHash } from 'node:crypto';
import type { Adapter, DatabaseSession, DatabaseUser } from 'lucia';
import { Op } from 'sequelize';
import { Session, User } from '../models/index.js';

/** The SHA-256 of a secret as hex: what is stored instead of it. */
export const sha256Hex = (secret: string) => createHash('sha256').update(secret).digest('hex');

/** Only the SHA-256 of a session id reaches the database. */
export const hashSessionId = sha256Hex;

export interface SessionContext {
  ip: string | null;
  userAgent: string | null;
}

/**
 * Lucia's storage over the Sequelize models. The absolute lifetime is enforced here: an
 * extension never moves a session's expiry past `created_at + maxAge`.
 */
export class SequelizeSessionAdapter implements Adapter {
  constructor(private readonly maxAgeMs: number) {}

  async getSessionAndUser(sessionId: string): Promise<[DatabaseSession | null, DatabaseUser | null]> {
    const row = await Session.findByPk(hashSessionId(sessionId), {
      include: [{ model: User, as: 'user', required: true, where: { active: true } }]
    });
    if (!row) return [null, null];
    const user = (row as Session & { user: User }).user;
    return [toDatabaseSession(sessionId, row), toDatabaseUser(user)];
  }

  async getUserSessions(userId: number): Promise<DatabaseSession[]> {
    const rows = await Session.findAll({ where: { userId } });
    return rows.map((r) => toDatabaseSession(r.id, r));
  }

  async setSession(session: DatabaseSession): Promise<void> {
    const ctx = session.attributes as Partial<SessionContext>;
    await Session.create(
      {
        id: hashSessionId(session.id),
        userId: session.userId as number,
        expiresAt: session.expiresAt,
        ip: ctx.ip ?? null,
        userAgent: ctx.userAgent?.slice(0, 512) ?? null
      },
      // created_at is the database's clock (the absolute lifetime is measured from it).
      { fields: ['id', 'userId', 'expiresAt', 'ip', 'userAgent'] }
    );
  }

  async updateSessionExpiration(sessionId: string, expiresAt: Date): Promise<void> {
    await Session.sequelize!.query(
      `UPDATE sessions SET expires_at = LEAST($2::timestamptz, created_at + make_interval(secs => $3))
        WHERE id = $1`,
      { bind: [hashSessionId(sessionId), expiresAt.toISOString(), this.maxAgeMs / 1000] }
    );
  }

  async deleteSession(sessionId: string): Promise<void> {
    await Session.destroy({ where: { id: hashSessionId(sessionId) } });
  }

  async deleteUserSessions(userId: number): Promise<void> {
    await Session.destroy({ where: { userId } });
  }

  async deleteExpiredSessions(): Promise<void> {
    await Session.destroy({ where: { expiresAt: { [Op.lte]: new Date() } } });
  }
}

function toDatabaseSession(id: string, row: Session): DatabaseSession {
  return { id, userId: row.userId, expiresAt: row.expiresAt, attributes: { createdAt: row.createdAt } };
}

function toDatabaseUser(user: User): DatabaseUser {
  return {
    id: user.id,
    attributes: { email: user.email, name: user.name, role: user.role, teamId: user.teamId }
  };
}
