import type {
  ExpiringPage,
  ExpiringQuery,
  LedgerPage,
  LedgerQuery,
  LoyaltyAccountDetail,
  LoyaltyLedgerRow
} from '#shared/schemas/loyalty.js';
import { ProgramConfig, type Reward } from '#shared/schemas/loyalty-program.js';
import type { Db } from '../../data/db.js';
import type { Actor } from '../../http/env.js';
import { notFound } from '../../errors.js';

// Reading a member's points: the account with its lots (available and pending apart), the ledger,
// the rewards catalogue and the members whose points expire soon.

type Row = Record<string, unknown>;
const iso = (v: unknown) => new Date(v as string).toISOString();
const isoOrNull = (v: unknown) => (v == null ? null : iso(v));

/** The account of a customer, or 404 when the customer is no member. */
export async function accountOf(db: Db, customerId: number): Promise<Row> {
  const [account] = await db.query<Row>(`SELECT * FROM loyalty_accounts WHERE customer_id = $1`, [
    customerId
  ]);
  if (!account) throw notFound('Loyalty account');
  return account;
}

/** The program in effect now. */
export async function currentProgram(db: Db): Promise<{ id: number; number: number; config: ProgramConfig }> {
  const [row] = await db.query<Row>(
    `SELECT id, number, config FROM loyalty_program_versions WHERE id = loyalty_program_version_at(now())`
  );
  return { id: Number(row.id), number: Number(row.number), config: ProgramConfig.parse(row.config) };
}

export function presentLedgerRow(l: Row): LoyaltyLedgerRow {
  return {
    id: Number(l.id),
    kind: l.kind as LoyaltyLedgerRow['kind'],
    points: Number(l.points),
    reason: String(l.reason),
    orderId: l.order_id == null ? null : Number(l.order_id),
    ticketId: l.ticket_id == null ? null : Number(l.ticket_id),
    reversesId: l.reverses_id == null ? null : Number(l.reverses_id),
    programVersion: Number(l.program_number),
    pending: l.pending === true,
    bonus: (l.bonus ?? null) as LoyaltyLedgerRow['bonus'],
    at: iso(l.created_at)
  };
}

/** Ledger rows with their version's number and whether the lot they opened is still pending. */
export const LEDGER_SELECT = `
  SELECT l.*, v.number AS program_number, coalesce(lot.pending, false) AS pending
    FROM loyalty_ledger l
    JOIN loyalty_program_versions v ON v.id = l.program_version_id
    LEFT JOIN loyalty_lots lot ON lot.entry_id = l.id`;

export async function accountDetail(
  db: Db,
  _actor: Actor,
  customerId: number
): Promise<LoyaltyAccountDetail> {
  const account = await accountOf(db, customerId);
  const program = await currentProgram(db);
  const lots = await db.query<Row>(
    `SELECT l.*, x.expires_at AS effective_expiry
       FROM loyalty_lots l JOIN loyalty_lot_expiries x ON x.lot_id = l.id
      WHERE l.account_id = $1 AND l.remaining > 0
      ORDER BY l.pending, l.earned_at, l.id`,
    [account.id]
  );
  const soon = Date.now() + 30 * 86_400_000;
  const balance = Number(account.balance);
  const pending = Number(account.pending);
  return {
    accountId: Number(account.id),
    customerId,
    tier: account.tier as LoyaltyAccountDetail['tier'],
    balance,
    available: balance - pending,
    pending,
    lifetimePoints: Number(account.lifetime_points),
    expiringSoon: lots
      .filter(
        (l) =>
          !l.pending && l.effective_expiry != null && new Date(l.effective_expiry as string).getTime() <= soon
      )
      .reduce((sum, l) => sum + Number(l.remaining), 0),
    joinedAt: iso(account.joined_at),
    version: Number(account.version),
    goodwillLimitPerTicket: program.config.goodwillLimitPerTicket,
    lots: lots.map((l) => ({
      id: Number(l.id),
      entryId: Number(l.entry_id),
      orderId: l.order_id == null ? null : Number(l.order_id),
      points: Number(l.points),
      remaining: Number(l.remaining),
      earnedAt: iso(l.earned_at),
      pending: l.pending === true,
      pendingUntil: isoOrNull(l.pending_until),
      expiresAt: isoOrNull(l.effective_expiry)
    }))
  };
}

/** The member's ledger, newest first; the cursor is the last entry's id. */
export async function ledgerPage(
  db: Db,
  _actor: Actor,
  customerId: number,
  q: LedgerQuery
): Promise<LedgerPage> {
  const account = await accountOf(db, customerId);
  const rows = await db.query<Row>(
    `${LEDGER_SELECT} WHERE l.account_id = $1 AND l.id < $2 ORDER BY l.id DESC LIMIT $3`,
    [account.id, q.cursor && /^\d{1,18}$/.test(q.cursor) ? q.cursor : '9223372036854775807', q.limit + 1]
  );
  return {
    rows: rows.slice(0, q.limit).map(presentLedgerRow),
    nextCursor: rows.length > q.limit ? String(rows[q.limit - 1].id) : null
  };
}

/** The active rewards of the program in effect. */
export async function rewardsCatalogue(
  db: Db
): Promise<{ programVersion: number; rewards: Reward[]; pointValue: string }> {
  const program = await currentProgram(db);
  return {
    programVersion: program.number,
    rewards: program.config.rewards.filter((r) => r.active),
    pointValue: program.config.pointValue
  };
}

/** Members whose available points expire within `days`, soonest first; the cursor is "epochMicros_customerId". */
export async function expiringPoints(db: Db, _actor: Actor, q: ExpiringQuery): Promise<ExpiringPage> {
  const [after, afterId] = q.cursor?.match(/^(\d{1,18})_(\d{1,9})$/)?.slice(1) ?? ['0', '0'];
  const window = `x.remaining > 0 AND NOT x.pending AND x.expires_at <= now() + make_interval(days => $1)`;
  const rows = await db.query<Row>(
    `SELECT a.customer_id, a.tier, c.first_name, c.last_name, c.email, e.points, e.first_expires_at,
            (extract(epoch FROM e.first_expires_at) * 1000000)::bigint::text AS position
       FROM (SELECT x.account_id, sum(x.remaining)::int AS points, min(x.expires_at) AS first_expires_at
               FROM loyalty_lot_expiries x WHERE ${window} GROUP BY x.account_id) e
       JOIN loyalty_accounts a ON a.id = e.account_id
       JOIN customers c ON c.id = a.customer_id
      WHERE ((extract(epoch FROM e.first_expires_at) * 1000000)::bigint, a.customer_id) > ($2::bigint, $3::int)
      ORDER BY e.first_expires_at, a.customer_id
      LIMIT $4`,
    [q.days, after, afterId, q.limit + 1]
  );
  const [total] = await db.query<{ points: number }>(
    `SELECT coalesce(sum(x.remaining), 0)::int AS points FROM loyalty_lot_expiries x WHERE ${window}`,
    [q.days]
  );
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    rows: page.map((r) => ({
      customerId: Number(r.customer_id),
      name:
        [r.first_name, r.last_name].filter(Boolean).join(' ') ||
        String(r.email ?? `Customer ${r.customer_id}`),
      email: r.email == null ? null : String(r.email),
      tier: r.tier as ExpiringPage['rows'][number]['tier'],
      points: Number(r.points),
      firstExpiresAt: iso(r.first_expires_at)
    })),
    totalPoints: Number(total.points),
    nextCursor: rows.length > q.limit ? `${String(last.position)}_${String(last.customer_id)}` : null
  };
}
