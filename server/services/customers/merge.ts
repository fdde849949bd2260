import type { z } from 'zod';
import type {
  CustomerMerge,
  CustomerResolution,
  MergeBody,
  MergeChoices,
  MergePreview,
  MergeSide
} from '#shared/schemas/merge.js';
import type { Db } from '../../data/db.js';
import { AppError, notFound } from '../../errors.js';
import type { Actor } from '../../http/env.js';
import { auditIn } from './audit.js';

// Merging two customers: the database's merge_customers() moves everything in the caller's
// transaction (migration 0017); this service checks who and what first, and audits it there too.

/** Where customer `id` points today: itself, or the survivor it was merged into (null: no such id). */
export async function resolveCustomerId(db: Db, id: number): Promise<CustomerResolution | null> {
  const [row] = await db.query<{ id: number; resolved: number }>(
    `SELECT id, resolve_customer_id(id) AS resolved FROM customers WHERE id = $1`,
    [id]
  );
  if (!row) return null;
  return { id: row.resolved, mergedInto: row.resolved === row.id ? null : row.resolved };
}

/** API choices in the database function's names. */
const CHOICE_COLUMNS: Record<keyof MergeChoices, string> = {
  email: 'email',
  phone: 'phone',
  name: 'name',
  language: 'language',
  marketingConsent: 'marketing_consent',
  addresses: 'addresses'
};

/**
 * Merges `input.mergedId` into `survivorId`. Both rows are locked in id order before their
 * versions are compared with what the caller saw: an edit that committed first makes this a 409
 * (stale_version) and changes nothing; an edit that comes after waits for the merge and then
 * fails on the merged row (it is frozen) or lands on the survivor.
 */
export async function mergeCustomers(
  db: Db,
  actor: Actor,
  survivorId: number,
  input: z.output<typeof MergeBody>
): Promise<CustomerMerge> {
  const mergedId = input.mergedId;
  if (mergedId === survivorId) throw new AppError('unprocessable', 'A customer cannot be merged into itself');
  return db.transaction(async (t) => {
    const locked = await t.query<{ id: number; version: number; merged_into: number | null }>(
      `SELECT id, version, merged_into FROM customers WHERE id = ANY($1::int[]) ORDER BY id FOR UPDATE`,
      [[survivorId, mergedId]]
    );
    const survivor = locked.find((r) => r.id === survivorId);
    const merged = locked.find((r) => r.id === mergedId);
    if (!survivor || !merged) throw notFound('Customer');
    for (const row of [survivor, merged]) {
      if (row.merged_into !== null)
        throw new AppError(
          'unprocessable',
          `Customer #${row.id} was merged into #${row.merged_into} already`,
          {
            customerId: row.id,
            mergedInto: row.merged_into
          }
        );
    }
    if (
      survivor.version !== input.expectedVersions.survivor ||
      merged.version !== input.expectedVersions.merged
    ) {
      throw new AppError(
        'stale_version',
        'One of the customers changed since you looked; review and merge again',
        {
          versions: { survivor: survivor.version, merged: merged.version }
        }
      );
    }
    const choices = Object.fromEntries(
      Object.entries(input.choices).map(([k, v]) => [CHOICE_COLUMNS[k as keyof MergeChoices], v])
    );
    const [{ id }] = await t.query<{ id: string }>(`SELECT merge_customers($1, $2, $3, $4) AS id`, [
      survivorId,
      mergedId,
      JSON.stringify(choices),
      actor.user.id
    ]);
    const merge = (await mergesOf(t, { id: Number(id) }))[0];
    await auditIn(
      t,
      actor,
      'customer.merged',
      { type: 'customer', id: survivorId },
      { mergeId: merge.id, survivorId, mergedId, choices: input.choices, moved: merge.moved }
    );
    return merge;
  });
}

interface MergeRow {
  id: string;
  survivor_id: number;
  merged_id: number;
  merged_by: number | null;
  merged_at: Date;
  moved: CustomerMerge['moved'];
  merged_name: string;
  merged_email: string;
}

/** Merges by id, or every merge a customer took part in (as survivor or merged), newest first. */
export async function mergesOf(
  db: Db,
  by: { id: number } | { customerId: number }
): Promise<CustomerMerge[]> {
  const rows = await db.query<MergeRow>(
    `SELECT id, survivor_id, merged_id, merged_by, merged_at, moved,
            btrim((snapshot -> 'merged' ->> 'first_name') || ' ' || (snapshot -> 'merged' ->> 'last_name')) AS merged_name,
            snapshot -> 'merged' ->> 'email' AS merged_email
       FROM customer_merges
      WHERE ${'id' in by ? 'id = $1' : '(survivor_id = $1 OR merged_id = $1)'}
      ORDER BY merged_at DESC, id DESC`,
    ['id' in by ? by.id : by.customerId]
  );
  return rows.map(presentMerge);
}

export function presentMerge(r: MergeRow): CustomerMerge {
  return {
    id: Number(r.id),
    survivorId: r.survivor_id,
    mergedId: r.merged_id,
    mergedBy: r.merged_by,
    mergedAt: new Date(r.merged_at).toISOString(),
    moved: r.moved,
    mergedName: r.merged_name,
    mergedEmail: r.merged_email
  };
}

/** Both customers' fields and what a merge would move: the merge dialog's content. */
export async function mergePreview(
  db: Db,
  _actor: Actor,
  survivorId: number,
  mergedId: number
): Promise<MergePreview> {
  if (survivorId === mergedId) throw new AppError('unprocessable', 'A customer cannot be merged into itself');
  const rows = await db.query<MergeSide & { mergedInto: number | null }>(
    `SELECT c.id, c.first_name AS "firstName", c.last_name AS "lastName", c.email, c.phone, c.language,
            c.marketing_consent AS "marketingConsent", c.addresses, c.tags, c.notes, c.version,
            c.merged_into AS "mergedInto",
            (SELECT count(*)::int FROM orders o WHERE o.customer_id = c.id) AS orders,
            (SELECT count(*)::int FROM tickets t WHERE t.customer_id = c.id) AS tickets,
            (SELECT count(*)::int FROM reviews r WHERE r.customer_id = c.id) AS reviews,
            coalesce(a.balance, 0) AS points,
            (SELECT count(*)::int FROM loyalty_ledger l WHERE l.account_id = a.id) AS "loyaltyEntries"
       FROM customers c LEFT JOIN loyalty_accounts a ON a.customer_id = c.id
      WHERE c.id = ANY($1::int[])`,
    [[survivorId, mergedId]]
  );
  const survivor = rows.find((r) => r.id === survivorId);
  const merged = rows.find((r) => r.id === mergedId);
  if (!survivor || !merged) throw notFound('Customer');
  for (const side of [survivor, merged]) {
    if (side.mergedInto !== null)
      throw new AppError(
        'unprocessable',
        `Customer #${side.id} was merged into #${side.mergedInto} already`,
        {
          customerId: side.id,
          mergedInto: side.mergedInto
        }
      );
  }
  const [{ conflicts }] = await db.query<{ conflicts: number }>(
    `SELECT count(*)::int AS conflicts FROM reviews a JOIN reviews b ON b.product_id = a.product_id
      WHERE a.customer_id = $1 AND b.customer_id = $2`,
    [survivorId, mergedId]
  );
  // Of two bonuses of one kind (and year, for birthdays) on both accounts, the merge takes back
  // the newer: counted by the function its record's trigger uses.
  const [{ takenBack }] = await db.query<{ takenBack: number }>(
    `SELECT merge_bonus_take_back($1, $2) AS "takenBack"`,
    [survivorId, mergedId]
  );
  const side = ({ mergedInto: _, ...s }: MergeSide & { mergedInto: number | null }): MergeSide => s;
  return {
    survivor: side(survivor),
    merged: side(merged),
    reviewConflicts: conflicts,
    bonusPointsTakenBack: takenBack,
    pointsMoving: merged.points - takenBack
  };
}
