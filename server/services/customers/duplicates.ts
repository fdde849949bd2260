import type { z } from 'zod';
import {
  NAME_SIMILARITY_THRESHOLD,
  type CustomerBrief,
  type DismissBody,
  type DuplicateCandidate,
  type DuplicatePair,
  type DuplicateReason,
  type DuplicatesPage,
  type DuplicatesQuery
} from '#shared/schemas/merge.js';
import type { Db } from '../../data/db.js';
import { AppError, notFound } from '../../errors.js';
import type { Actor } from '../../http/env.js';
import { auditIn } from './audit.js';

// Duplicate suggestions, computed by the database over live (not merged) customers: the same
// normalised email, the same phone in E.164 (migration 0030), or a similar name (pg_trgm) at a shared postcode.
// Each reason has its index (migration 0017), so one customer's suggestions are a few index
// lookups; the screen's list of pairs joins on the same keys.

/**
 * Every email and phone (primary, and the other contacts of migration 0016) of the customers
 * `customers` selects, normalised as the indexes of migrations 0017 (emails) and 0030 (phones, E.164)
 * are: rows (id, kind, k).
 */
const POINTS = (customers: string, contacts: string) => `
  SELECT id, 'email' AS kind, normalize_email(email) AS k FROM customers WHERE ${customers}
  UNION SELECT id, 'phone', phone_e164 FROM customers WHERE ${customers} AND phone_e164 IS NOT NULL
  UNION SELECT customer_id, kind, CASE kind WHEN 'email' THEN normalize_email(value) ELSE phone_e164 END
          FROM customer_contacts WHERE ${contacts}
           AND (kind = 'email' OR phone_e164 IS NOT NULL)`;

/** Score of a pair from its reasons and name similarity: exact, two decimals (a cursor compares it). */
const SCORE = `round(greatest(
    CASE WHEN 'email' = ANY(reasons) THEN 1 ELSE 0 END,
    CASE WHEN 'phone' = ANY(reasons) THEN 0.7 + 0.3 * sim ELSE 0 END,
    CASE WHEN 'name_postcode' = ANY(reasons) THEN 0.9 * sim ELSE 0 END)::numeric, 2)`;

/** A customer as a suggestion shows it. */
const BRIEF = (alias: string) => `json_build_object(
    'id', ${alias}.id, 'firstName', ${alias}.first_name, 'lastName', ${alias}.last_name, 'email', ${alias}.email,
    'phone', ${alias}.phone, 'postcodes', customer_postcodes(${alias}.addresses),
    'orders', (SELECT count(*) FROM orders o WHERE o.customer_id = ${alias}.id),
    'createdAt', ${alias}.created_at, 'version', ${alias}.version)`;

interface BriefRow {
  brief: CustomerBrief & { createdAt: string | Date };
}
const brief = (b: BriefRow['brief']): CustomerBrief => ({
  ...b,
  orders: Number(b.orders),
  createdAt: new Date(b.createdAt).toISOString()
});

/** The live customers that look like customer `id`, best first; not-duplicate dismissals left out. */
export async function duplicatesOf(db: Db, _actor: Actor, id: number): Promise<DuplicateCandidate[]> {
  const [me] = await db.query<{ merged_into: number | null }>(
    `SELECT merged_into FROM customers WHERE id = $1`,
    [id]
  );
  if (!me) throw notFound('Customer');
  if (me.merged_into !== null) return [];
  const rows = await db.query<BriefRow & { reasons: DuplicateReason[]; score: string }>(
    `WITH me AS (SELECT id, customer_postcodes(addresses) AS pc, customer_full_name(first_name, last_name) AS nm
                   FROM customers WHERE id = $1),
     my_keys AS (${POINTS('id = $1', 'customer_id = $1')}),
     found AS (
       SELECT c.id, 'email' AS reason FROM customers c
        WHERE normalize_email(c.email) IN (SELECT k FROM my_keys WHERE kind = 'email')
          AND c.merged_into IS NULL AND c.id <> $1
       UNION ALL
       SELECT c.id, 'phone' FROM customers c
        WHERE c.phone_e164 IN (SELECT k FROM my_keys WHERE kind = 'phone')
          AND c.phone_e164 IS NOT NULL AND c.merged_into IS NULL AND c.id <> $1
       UNION ALL
       SELECT k.customer_id, 'email' FROM customer_contacts k
        WHERE k.kind = 'email' AND normalize_email(k.value) IN (SELECT k FROM my_keys WHERE kind = 'email')
          AND k.customer_id <> $1
       UNION ALL
       SELECT k.customer_id, 'phone' FROM customer_contacts k
        WHERE k.kind = 'phone' AND k.phone_e164 IN (SELECT k FROM my_keys WHERE kind = 'phone')
          AND k.customer_id <> $1
       UNION ALL
       SELECT c.id, 'name_postcode' FROM me JOIN customers c
         ON customer_postcodes(c.addresses) && me.pc AND c.merged_into IS NULL AND c.id <> me.id
        AND similarity(customer_full_name(c.first_name, c.last_name), me.nm) >= $2
     ),
     grouped AS (
       SELECT f.id, array_agg(DISTINCT f.reason ORDER BY f.reason) AS reasons,
              similarity(customer_full_name(c.first_name, c.last_name), (SELECT nm FROM me)) AS sim
         FROM found f JOIN customers c ON c.id = f.id AND c.merged_into IS NULL
        WHERE NOT EXISTS (SELECT 1 FROM duplicate_dismissals d
                           WHERE d.customer_a = least($1::int, f.id) AND d.customer_b = greatest($1::int, f.id))
        GROUP BY f.id, c.first_name, c.last_name
     )
     SELECT g.reasons, ${SCORE} AS score, ${BRIEF('c')} AS brief
       FROM grouped g JOIN customers c ON c.id = g.id
      ORDER BY score DESC, c.id
      LIMIT 20`,
    [id, NAME_SIMILARITY_THRESHOLD]
  );
  return rows.map((r) => ({ customer: brief(r.brief), reasons: r.reasons, score: Number(r.score) }));
}

/** Cursor of the pairs list: the last pair's score and ids (score DESC, a, b). */
const encodeCursor = (score: string, a: number, b: number) =>
  Buffer.from(`${score}:${a}:${b}`).toString('base64url');
function decodeCursor(cursor: string): [string, number, number] {
  const m = /^(0|1)\.(\d{2}):(\d{1,10}):(\d{1,10})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) throw new AppError('validation_failed', 'That cursor is not one this list gave');
  return [`${m[1]}.${m[2]}`, Number(m[3]), Number(m[4])];
}

/** Every suggested pair of live customers, best first, a page at a time. */
export async function listDuplicatePairs(
  db: Db,
  _actor: Actor,
  query: z.output<typeof DuplicatesQuery>
): Promise<DuplicatesPage> {
  const after = query.cursor ? decodeCursor(query.cursor) : null;
  const rows = await db.query<{
    a: BriefRow['brief'];
    b: BriefRow['brief'];
    reasons: DuplicateReason[];
    score: string;
  }>(
    `WITH points AS (${POINTS('merged_into IS NULL', 'customer_id IN (SELECT id FROM customers WHERE merged_into IS NULL)')}),
     codes AS (SELECT id, customer_full_name(first_name, last_name) AS nm, unnest(customer_postcodes(addresses)) AS code
                 FROM customers WHERE merged_into IS NULL),
     found AS (
       SELECT DISTINCT x.id AS a, y.id AS b, x.kind AS reason
         FROM points x JOIN points y ON x.kind = y.kind AND x.k = y.k AND x.id < y.id
       UNION ALL
       SELECT DISTINCT x.id, y.id, 'name_postcode' FROM codes x JOIN codes y ON x.code = y.code AND x.id < y.id
        WHERE similarity(x.nm, y.nm) >= $1
     ),
     grouped AS (
       SELECT f.a, f.b, array_agg(DISTINCT f.reason ORDER BY f.reason) AS reasons,
              similarity(customer_full_name(ca.first_name, ca.last_name), customer_full_name(cb.first_name, cb.last_name)) AS sim
         FROM found f JOIN customers ca ON ca.id = f.a JOIN customers cb ON cb.id = f.b
        WHERE NOT EXISTS (SELECT 1 FROM duplicate_dismissals d WHERE d.customer_a = f.a AND d.customer_b = f.b)
        GROUP BY f.a, f.b, ca.first_name, ca.last_name, cb.first_name, cb.last_name
     ),
     scored AS (SELECT a, b, reasons, ${SCORE} AS score FROM grouped)
     SELECT s.reasons, s.score, ${BRIEF('ca')} AS a, ${BRIEF('cb')} AS b
       FROM scored s JOIN customers ca ON ca.id = s.a JOIN customers cb ON cb.id = s.b
      WHERE $2::numeric IS NULL OR (s.score, -s.a, -s.b) < ($2::numeric, -$3::int, -$4::int)
      ORDER BY s.score DESC, s.a, s.b
      LIMIT $5`,
    [NAME_SIMILARITY_THRESHOLD, after?.[0] ?? null, after?.[1] ?? 0, after?.[2] ?? 0, query.limit + 1]
  );
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  const pairs: DuplicatePair[] = page.map((r) => ({
    a: brief(r.a),
    b: brief(r.b),
    reasons: r.reasons,
    score: Number(r.score)
  }));
  return {
    pairs,
    nextCursor: rows.length > query.limit && last ? encodeCursor(last.score, last.a.id, last.b.id) : null
  };
}

/** Records that two customers are not the same person: the pair is suggested no more. */
export async function dismissDuplicate(
  db: Db,
  actor: Actor,
  input: z.output<typeof DismissBody>
): Promise<{ customerIds: [number, number] }> {
  const [a, b] = [...input.customerIds].sort((x, y) => x - y);
  return db.transaction(async (t) => {
    const found = await t.query(`SELECT id FROM customers WHERE id = ANY($1::int[])`, [[a, b]]);
    if (found.length !== 2) throw notFound('Customer');
    await t.query(
      `INSERT INTO duplicate_dismissals (customer_a, customer_b, dismissed_by) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING`,
      [a, b, actor.user.id]
    );
    await auditIn(
      t,
      actor,
      'customer.duplicate_dismissed',
      { type: 'customer', id: a },
      { customerIds: [a, b] }
    );
    return { customerIds: [a, b] };
  });
}
