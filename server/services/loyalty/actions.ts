import { randomBytes } from 'node:crypto';
import type {
  AdjustBody,
  EntryResult,
  GoodwillBody,
  RedeemBody,
  RewardCode
} from '#shared/schemas/loyalty.js';
import type { Reward } from '#shared/schemas/loyalty-program.js';
import { canViewTicket } from '../../auth/policies.js';
import type { Db } from '../../data/db.js';
import { AppError, notFound } from '../../errors.js';
import type { Actor } from '../../http/env.js';
import { audit } from '../audit.js';
import { accountOf, currentProgram, LEDGER_SELECT, presentLedgerRow } from './account.js';

// Changing a member's points: redeeming a reward, a manager's adjustment, an agent's goodwill.
// Each writes one ledger entry; the database moves the lots and the balance (migration 0026) and
// refuses what the rules forbid. An Idempotency-Key makes a retried request apply once: the
// entry's idempotency key names the action, the member and the client's key, and a repeat gets
// the first request's answer.

type Row = Record<string, unknown>;
const dbError = (err: unknown) =>
  err as { code?: string; constraint?: string; original?: { code?: string; constraint?: string } };
const constraintOf = (err: unknown) => dbError(err).original?.constraint ?? dbError(err).constraint;

const keyFor = (action: string, accountId: unknown, clientKey: string | undefined) =>
  `api:${action}:${String(accountId)}:${clientKey ?? randomBytes(12).toString('hex')}`;

async function entryByKey(db: Db, key: string): Promise<Row | undefined> {
  const [row] = await db.query<Row>(`${LEDGER_SELECT} WHERE l.idempotency_key = $1`, [key]);
  return row;
}

/** Inserts the entry unless its key was used; returns it and whether this call wrote it. */
async function writeOnce(
  db: Db,
  key: string,
  insert: () => Promise<Row[]>
): Promise<{ row: Row; applied: boolean }> {
  const before = await entryByKey(db, key);
  if (before) return { row: before, applied: false };
  let inserted: Row[];
  try {
    inserted = await insert();
  } catch (err) {
    if (constraintOf(err) === 'loyalty_accounts_balance_check')
      throw new AppError('conflict', 'Not enough available points', { reason: 'insufficient_points' });
    if (constraintOf(err) === 'loyalty_ledger_goodwill_limit')
      throw new AppError('conflict', 'That is more goodwill than the program allows for one ticket', {
        reason: 'goodwill_limit'
      });
    throw err;
  }
  // A concurrent request with the same key committed first: ours did nothing.
  const row = await entryByKey(db, key);
  if (!row) throw new AppError('conflict', 'A concurrent change won; try again');
  return { row, applied: inserted.length > 0 };
}

const INSERT_ENTRY = `INSERT INTO loyalty_ledger (account_id, kind, points, reason, ticket_id, idempotency_key)
  VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`;

/** A code nobody can guess: PTS- and 12 characters without look-alikes. */
function newCode(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(12);
  const chars = [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
  return `PTS-${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8)}`;
}

function presentCode(row: Row): RewardCode {
  return {
    code: String(row.code),
    rewardId: String(row.reward_id),
    reward: row.reward as Reward,
    points: -Number(row.points),
    entryId: Number(row.entry_id),
    at: new Date(row.created_at as string).toISOString()
  };
}

/** Spends points on a catalogue reward and issues its code; 409 when too few points are available. */
export async function redeemReward(
  db: Db,
  actor: Actor,
  customerId: number,
  input: RedeemBody,
  clientKey?: string
): Promise<EntryResult & { code: RewardCode }> {
  return db.transaction(async (t) => {
    const account = await accountOf(t, customerId);
    const program = await currentProgram(t);
    const reward = program.config.rewards.find((r) => r.id === input.rewardId && r.active);
    if (!reward) throw notFound('Reward');
    const key = keyFor('redeem', account.id, clientKey);
    const { row, applied } = await writeOnce(t, key, () =>
      t.query(INSERT_ENTRY, [account.id, 'redeem', -reward.pointCost, `Redeemed: ${reward.name}`, null, key])
    );
    if (applied) {
      await t.query(
        `INSERT INTO loyalty_reward_codes (code, account_id, entry_id, program_version_id, reward_id, reward)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb)`,
        [newCode(), account.id, row.id, program.id, reward.id, JSON.stringify(reward)]
      );
      await audit(t, {
        action: 'loyalty.redeem',
        actorUserId: actor.user.id,
        targetType: 'customer',
        targetId: customerId,
        ip: actor.ip,
        details: { rewardId: reward.id, points: reward.pointCost, entryId: Number(row.id) }
      });
    }
    const [code] = await t.query<Row>(
      `SELECT c.*, l.points FROM loyalty_reward_codes c JOIN loyalty_ledger l ON l.id = c.entry_id WHERE c.entry_id = $1`,
      [row.id]
    );
    if (!code) throw new AppError('conflict', 'That Idempotency-Key was used for another action');
    return { entry: presentLedgerRow(row), applied, code: presentCode(code) };
  });
}

/** A manager's adjustment, up or down, with a reason; 409 when it would take more than is available. */
export async function adjustPoints(
  db: Db,
  actor: Actor,
  customerId: number,
  input: AdjustBody,
  clientKey?: string
): Promise<EntryResult> {
  return db.transaction(async (t) => {
    const account = await accountOf(t, customerId);
    const key = keyFor('adjust', account.id, clientKey);
    const reason = `Adjusted by ${actor.user.name}: ${input.reason}`.slice(0, 200);
    const { row, applied } = await writeOnce(t, key, () =>
      t.query(INSERT_ENTRY, [account.id, 'adjust', input.points, reason, null, key])
    );
    if (applied)
      await audit(t, {
        action: 'loyalty.adjust',
        actorUserId: actor.user.id,
        targetType: 'customer',
        targetId: customerId,
        ip: actor.ip,
        details: { points: input.points, reason: input.reason, entryId: Number(row.id) }
      });
    return { entry: presentLedgerRow(row), applied };
  });
}

/**
 * Goodwill points an agent grants from a ticket of the member, up to the program's limit per
 * ticket (409 past it). The ticket gets an internal note saying so, which its watchers see live.
 */
export async function grantGoodwill(
  db: Db,
  actor: Actor,
  customerId: number,
  input: GoodwillBody,
  clientKey?: string
): Promise<EntryResult & { grantedOnTicket: number; limit: number }> {
  return db.transaction(async (t) => {
    const [ticket] = await t.query<Row>(`SELECT id, team_id, customer_id FROM tickets WHERE id = $1`, [
      input.ticketId
    ]);
    if (!ticket || !canViewTicket(actor.user, { teamId: Number(ticket.team_id) })) throw notFound('Ticket');
    if (Number(ticket.customer_id) !== customerId)
      throw new AppError('unprocessable', 'That ticket is not this customer’s', [
        { path: 'ticketId', message: 'is another customer’s ticket' }
      ]);
    const account = await accountOf(t, customerId);
    const program = await currentProgram(t);
    const key = keyFor('goodwill', account.id, clientKey);
    const reason = `Goodwill on ticket #${input.ticketId}: ${input.reason}`.slice(0, 200);
    const { row, applied } = await writeOnce(t, key, () =>
      t.query(INSERT_ENTRY, [account.id, 'adjust', input.points, reason, input.ticketId, key])
    );
    if (applied) {
      await t.query(
        `INSERT INTO ticket_messages (ticket_id, author_type, author_user_id, body, internal) VALUES ($1, 'system', $2, $3, true)`,
        [
          input.ticketId,
          actor.user.id,
          `${actor.user.name} granted ${input.points} goodwill points: ${input.reason}`
        ]
      );
      await audit(t, {
        action: 'loyalty.goodwill',
        actorUserId: actor.user.id,
        targetType: 'ticket',
        targetId: input.ticketId,
        ip: actor.ip,
        details: { customerId, points: input.points, reason: input.reason, entryId: Number(row.id) }
      });
    }
    const [granted] = await t.query<{ points: number }>(
      `SELECT coalesce(sum(points), 0)::int AS points FROM loyalty_ledger WHERE ticket_id = $1`,
      [input.ticketId]
    );
    return {
      entry: presentLedgerRow(row),
      applied,
      grantedOnTicket: Number(granted.points),
      limit: program.config.goodwillLimitPerTicket
    };
  });
}
