import { randomBytes } from 'node:crypto';
import type { CreatedWallboardToken, WallboardToken } from '#shared/schemas/metrics.js';
import type { Actor } from '../../auth/actor.js';
import { sha256Hex } from '../../auth/session-adapter.js';
import { notFound } from '../../errors.js';
import type { Db } from '../../data/db.js';
import { audit } from '../audit.js';

// Read-only wallboard links for a TV nobody signs in on. The token is shown once; only its
// SHA-256 is stored. It opens GET /api/wallboard and a socket that joins the `wallboard` room,
// nothing else. Revoking it ends the TVs' sockets through the live path (a change_log row).

const PREFIX = 'pwb_';

interface Row {
  id: number;
  name: string;
  created_at: Date;
  created_by: number | null;
  creator_name: string | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const SELECT = `SELECT t.id, t.name, t.created_at, t.created_by, u.name AS creator_name, t.last_used_at, t.revoked_at
                  FROM wallboard_tokens t LEFT JOIN users u ON u.id = t.created_by`;

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

function present(r: Row): WallboardToken {
  return {
    id: r.id,
    name: r.name,
    createdAt: iso(r.created_at)!,
    createdBy: r.created_by === null ? null : { id: r.created_by, name: r.creator_name ?? '' },
    lastUsedAt: iso(r.last_used_at),
    revokedAt: iso(r.revoked_at)
  };
}

export async function createWallboardToken(
  db: Db,
  actor: Actor,
  name: string
): Promise<CreatedWallboardToken> {
  const secret = `${PREFIX}${randomBytes(32).toString('base64url')}`;
  const id = await db.transaction(async (t) => {
    const [row] = await t.query<{ id: number }>(
      `INSERT INTO wallboard_tokens (token_hash, name, created_by) VALUES ($1, $2, $3) RETURNING id`,
      [sha256Hex(secret), name, actor.user.id]
    );
    await audit(t, {
      action: 'wallboard_token.created',
      actorUserId: actor.user.id,
      targetType: 'wallboard_token',
      targetId: row.id,
      ip: actor.ip,
      details: { name }
    });
    return row.id;
  });
  const [row] = await db.query<Row>(`${SELECT} WHERE t.id = $1`, [id]);
  return { token: present(row), secret, path: `/tv?token=${encodeURIComponent(secret)}` };
}

export async function listWallboardTokens(db: Db): Promise<WallboardToken[]> {
  return (
    await db.query<Row>(`${SELECT} ORDER BY t.revoked_at IS NOT NULL, t.created_at DESC, t.id DESC`)
  ).map(present);
}

/** Revokes for good (revoking twice is a no-op); open TV sockets close within a second. */
export async function revokeWallboardToken(db: Db, actor: Actor, id: number): Promise<WallboardToken> {
  const row = await db.transaction(async (t) => {
    const revoked = await t.query<{ id: number }>(
      `UPDATE wallboard_tokens SET revoked_at = now(), revoked_by = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id`,
      [id, actor.user.id]
    );
    if (revoked.length > 0) {
      await audit(t, {
        action: 'wallboard_token.revoked',
        actorUserId: actor.user.id,
        targetType: 'wallboard_token',
        targetId: id,
        ip: actor.ip
      });
    }
    const [found] = await t.query<Row>(`${SELECT} WHERE t.id = $1`, [id]);
    return found;
  });
  if (!row) throw notFound('Wallboard token');
  return present(row);
}

/**
 * The token's id and name when it is valid (exists, not revoked). Marks it used, at most once a
 * minute, so the list shows which TVs are alive.
 */
export async function verifyWallboardToken(
  db: Db,
  token: unknown
): Promise<{ id: number; name: string } | null> {
  if (typeof token !== 'string' || !token.startsWith(PREFIX) || token.length > 200) return null;
  const hash = sha256Hex(token);
  const [row] = await db.query<{ id: number; name: string }>(
    `UPDATE wallboard_tokens SET last_used_at = now()
      WHERE token_hash = $1 AND revoked_at IS NULL AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
      RETURNING id, name`,
    [hash]
  );
  if (row) return row;
  const [valid] = await db.query<{ id: number; name: string }>(
    `SELECT id, name FROM wallboard_tokens WHERE token_hash = $1 AND revoked_at IS NULL`,
    [hash]
  );
  return valid ?? null;
}
