import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type { UserRole } from '#shared/enums.js';
import {
  API_TOKEN_PREFIX,
  type ApiScope,
  type ApiToken,
  type CreateApiTokenBody,
  type CreatedApiToken
} from '#shared/schemas/integrations.js';
import type { Actor } from '../../auth/actor.js';
import { sha256Hex } from '../../auth/session-adapter.js';
import type { Db } from '../../data/db.js';
import { AppError, notFound } from '../../errors.js';
import { audit } from '../audit.js';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Random characters after `pulse_`: 40 of base62 is 238 bits. */
const SECRET_LENGTH = 40;
/** Characters of the secret kept in the clear to tell tokens apart. */
const SHOWN_PREFIX = 4;
/** `last used` is written at most this often per token (and whenever the address changes). */
const LAST_USED_EVERY_SECONDS = 30;

/** Base62 without modulo bias: bytes of 248 and above are drawn again. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

export const looksLikeApiToken = (value: string) =>
  value.startsWith(API_TOKEN_PREFIX) && /^[A-Za-z0-9]{32,200}$/.test(value.slice(API_TOKEN_PREFIX.length));

interface TokenRow {
  id: number;
  name: string;
  prefix: string;
  scopes: ApiScope[];
  user_id: number;
  owner_name: string | null;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  last_used_ip: string | null;
  revoked_at: Date | null;
}

const SELECT = `SELECT t.id, t.name, t.prefix, t.scopes, t.user_id, u.name AS owner_name, t.created_at, t.expires_at,
                       t.last_used_at, host(t.last_used_ip) AS last_used_ip, t.revoked_at
                  FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id`;

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
const present = (r: TokenRow): ApiToken => ({
  id: r.id,
  name: r.name,
  prefix: `${API_TOKEN_PREFIX}${r.prefix}`,
  scopes: r.scopes,
  owner: r.owner_name === null ? null : { id: r.user_id, name: r.owner_name },
  createdAt: iso(r.created_at)!,
  expiresAt: iso(r.expires_at),
  lastUsedAt: iso(r.last_used_at),
  lastUsedFrom: r.last_used_ip,
  revokedAt: iso(r.revoked_at)
});

export async function listApiTokens(db: Db): Promise<ApiToken[]> {
  const rows = await db.query<TokenRow>(
    `${SELECT} ORDER BY t.revoked_at IS NOT NULL, t.created_at DESC, t.id DESC`
  );
  return rows.map(present);
}

/**
 * A new token acting as `ownerId` (the creator, unless the command line names someone), narrowed
 * to `scopes`. The secret is returned once; only its SHA-256 is stored.
 */
export async function createApiToken(
  db: Db,
  actor: Actor | null,
  input: z.output<typeof CreateApiTokenBody> & { ownerId?: number }
): Promise<CreatedApiToken> {
  const ownerId = input.ownerId ?? actor?.user.id;
  if (ownerId === undefined) throw new AppError('bad_request', 'A token needs a user to act as');
  const random = randomBase62(SECRET_LENGTH);
  const secret = `${API_TOKEN_PREFIX}${random}`;
  return db.transaction(async (t) => {
    const [owner] = await t.query<{ id: number }>(`SELECT id FROM users WHERE id = $1 AND active`, [ownerId]);
    if (!owner) throw new AppError('unprocessable', 'A token must act as an active user');
    const [{ id }] = await t.query<{ id: number }>(
      `INSERT INTO api_tokens (name, token_hash, prefix, scopes, user_id, created_by, expires_at)
       VALUES ($1, $2, $3, $4::text[], $5, $6, $7::timestamptz) RETURNING id`,
      [
        input.name,
        sha256Hex(secret),
        random.slice(0, SHOWN_PREFIX),
        input.scopes,
        ownerId,
        actor?.user.id ?? null,
        input.expiresAt ?? null
      ]
    );
    await audit(t, {
      action: 'api_token.created',
      actorUserId: actor?.user.id ?? null,
      targetType: 'api_token',
      targetId: id,
      ip: actor?.ip ?? null,
      details: { name: input.name, scopes: input.scopes, ownerId, expiresAt: input.expiresAt ?? null }
    });
    const [row] = await t.query<TokenRow>(`${SELECT} WHERE t.id = $1`, [id]);
    return { token: present(row), secret };
  });
}

/** Revoked at once: every request looks its token up, so the next one is refused. */
export async function revokeApiToken(db: Db, actor: Actor, id: number): Promise<ApiToken> {
  return db.transaction(async (t) => {
    const [row] = await t.query<{ id: number }>(
      `UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id`,
      [id]
    );
    if (!row) {
      const [existing] = await t.query<TokenRow>(`${SELECT} WHERE t.id = $1`, [id]);
      if (!existing) throw notFound('API token');
      return present(existing);
    }
    await audit(t, {
      action: 'api_token.revoked',
      actorUserId: actor.user.id,
      targetType: 'api_token',
      targetId: id,
      ip: actor.ip
    });
    const [revoked] = await t.query<TokenRow>(`${SELECT} WHERE t.id = $1`, [id]);
    return present(revoked);
  });
}

export interface ResolvedToken {
  id: number;
  scopes: ApiScope[];
  user: { id: number; email: string; name: string; role: UserRole; teamId: number | null };
}

/**
 * The token a request presents, with the user it acts as; null when it is unknown, revoked,
 * expired, or its user is deactivated. Notes when and from where it was used.
 */
export async function resolveApiToken(
  db: Db,
  secret: string,
  ip: string | null
): Promise<ResolvedToken | null> {
  if (!looksLikeApiToken(secret)) return null;
  const [row] = await db.query<{
    id: number;
    scopes: ApiScope[];
    user_id: number;
    email: string;
    name: string;
    role: UserRole;
    team_id: number | null;
    stale: boolean;
  }>(
    `SELECT t.id, t.scopes, u.id AS user_id, u.email, u.name, u.role, u.team_id,
            (t.last_used_at IS NULL OR t.last_used_at < now() - make_interval(secs => $2)
             OR t.last_used_ip IS DISTINCT FROM $3::inet) AS stale
       FROM api_tokens t JOIN users u ON u.id = t.user_id
      WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
        AND u.active`,
    [sha256Hex(secret), LAST_USED_EVERY_SECONDS, ip]
  );
  if (!row) return null;
  if (row.stale)
    await db.query(`UPDATE api_tokens SET last_used_at = now(), last_used_ip = $2::inet WHERE id = $1`, [
      row.id,
      ip
    ]);
  return {
    id: row.id,
    scopes: row.scopes,
    user: { id: row.user_id, email: row.email, name: row.name, role: row.role, teamId: row.team_id }
  };
}
