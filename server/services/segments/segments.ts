import { money } from '#shared/rules/money.js';
import {
  SEGMENT_PREVIEW_SIZE,
  type Segment,
  type SegmentCount,
  type SegmentGroup,
  type SegmentInput,
  type SegmentMember,
  type SegmentPatch
} from '#shared/schemas/segments.js';
import type { Db } from '../../data/db.js';
import { AppError, notFound } from '../../errors.js';
import type { Actor } from '../../http/env.js';
import { audit } from '../audit.js';
import {
  COMPILER_VERSION,
  compileSegment,
  compileSegmentTyped,
  type AttributeTypes,
  type CompileContext,
  type CompiledRule,
  type TypedRule
} from './compile.js';

// Segments: saved rules, their counts, previews and members. Membership itself is the
// database's (migration 0028): this module compiles a rule, stores the compiled SQL beside it and
// fills a new or changed segment; later changes of customers move them in and out at commit.

type Row = Record<string, unknown>;
const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());

/** The relation every compiled rule reads (aliases c and s). */
export const BASE = `customers c JOIN customer_stats s ON s.customer_id = c.id`;

export function presentSegment(r: Row): Segment {
  return {
    id: Number(r.id),
    name: String(r.name),
    description: String(r.description),
    rule: r.rule as SegmentGroup,
    builtIn: (r.built_in as Segment['builtIn']) ?? null,
    createdBy: (r.created_by as number | null) ?? null,
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
    version: Number(r.version),
    memberCount: r.member_count === null || r.member_count === undefined ? null : Number(r.member_count),
    countedAt: iso(r.counted_at)
  };
}

const presentMember = (r: Row): SegmentMember => ({
  id: Number(r.id),
  name: String(r.name),
  email: String(r.email),
  country: (r.country as string | null) ?? null,
  tier: (r.tier as SegmentMember['tier']) ?? null,
  lifetimeSpend: money(r.lifetime_spend as string),
  orderCount: Number(r.order_count),
  lastOrderAt: iso(r.last_order_at),
  enteredAt: iso(r.entered_at)
});

const MEMBER_COLUMNS = `c.id, btrim(c.first_name || ' ' || c.last_name) AS name, c.email,
  customer_country(c.addresses) AS country, s.tier, s.lifetime_spend, s.order_count, s.last_order_at`;

/** The types of the customers' custom attributes, which attribute conditions compile by. */
export async function attributeTypes(db: Db): Promise<AttributeTypes> {
  const rows = await db.query<{ key: string; type: AttributeTypes[string] }>(
    `SELECT key, type FROM custom_attribute_definitions WHERE entity = 'customer'`
  );
  return Object.fromEntries(rows.map((r) => [r.key, r.type]));
}

/**
 * What rules compile against now. Set-shaped rules read the kept recent windows only while they
 * hold today's figures: from midnight (UTC) until the day's roll has moved them
 * (server/services/segments/recent.ts), the orders themselves are summed.
 */
async function compileContext(db: Db, mode: 'row' | 'set'): Promise<CompileContext> {
  const types = await attributeTypes(db);
  if (mode === 'row') return { types, recentKept: false };
  const [row] = await db.query<{ current: boolean }>(
    `SELECT day = (now() AT TIME ZONE 'UTC')::date AS current FROM customer_stats_recent`
  );
  return { types, recentKept: row?.current === true };
}

export async function compile(db: Db, rule: SegmentGroup, mode: 'row' | 'set'): Promise<CompiledRule> {
  return compileSegment(rule, mode, await compileContext(db, mode));
}

/** A draft's rule, set-shaped, for one statement (compileSegmentTyped). */
async function compileDraft(db: Db, rule: SegmentGroup): Promise<TypedRule> {
  return compileSegmentTyped(rule, 'set', await compileContext(db, 'set'));
}

export async function listSegments(db: Db): Promise<Segment[]> {
  const rows = await db.query<Row>(`SELECT * FROM segments ORDER BY built_in IS NULL, lower(name), id`);
  return rows.map(presentSegment);
}

async function segmentRow(db: Db, id: number, lock = false): Promise<Row> {
  const [row] = await db.query<Row>(`SELECT * FROM segments WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  if (!row) throw notFound('Segment');
  return row;
}

export async function getSegment(db: Db, id: number): Promise<Segment> {
  return presentSegment(await segmentRow(db, id));
}

/**
 * Makes segment_members of `id` exactly what its rule selects now, from the set-shaped SQL.
 * With `quiet`, nobody "enters" (a new segment's first members): no history, no events.
 */
export async function fillSegment(t: Db, id: number, rule: SegmentGroup, quiet: boolean): Promise<number> {
  const { where, params } = await compile(t, rule, 'set');
  if (quiet) await t.query(`SELECT set_config('pulse.segment_fill', 'on', true)`);
  await t.query(
    `WITH matched AS (SELECT c.id FROM ${BASE} WHERE ${where}),
          gone AS (DELETE FROM segment_members m WHERE m.segment_id = $2
                    AND NOT EXISTS (SELECT 1 FROM matched WHERE matched.id = m.customer_id))
     INSERT INTO segment_members (segment_id, customer_id)
     SELECT $2, id FROM matched ORDER BY id ON CONFLICT DO NOTHING`,
    [JSON.stringify(params), id]
  );
  if (quiet) await t.query(`SELECT set_config('pulse.segment_fill', 'off', true)`);
  const [{ n }] = await t.query<{ n: number }>(
    `UPDATE segments SET member_count = (SELECT count(*) FROM segment_members WHERE segment_id = $1),
            counted_at = clock_timestamp()
      WHERE id = $1 RETURNING member_count AS n`,
    [id]
  );
  return Number(n);
}

/** Stores the row-shaped SQL the database evaluates at commit. */
async function storeCompiled(t: Db, id: number, rule: SegmentGroup) {
  const { where, params } = await compile(t, rule, 'row');
  await t.query(
    `UPDATE segments SET compiled_where = $2, compiled_params = $3::jsonb, compiled_with = $4 WHERE id = $1`,
    [id, where, JSON.stringify(params), COMPILER_VERSION]
  );
}

export async function createSegment(db: Db, actor: Actor, input: SegmentInput): Promise<Segment> {
  return db.transaction(async (t) => {
    // Compiling first refuses a rule the database cannot run (an undefined attribute) with a 400.
    await compile(t, input.rule, 'set');
    const [row] = await t.query<Row>(
      `INSERT INTO segments (name, description, rule, created_by) VALUES ($1, $2, $3::jsonb, $4)
       ON CONFLICT DO NOTHING RETURNING id`,
      [input.name, input.description, JSON.stringify(input.rule), actor.user.id]
    );
    if (!row) throw new AppError('conflict', `A segment named "${input.name}" already exists`);
    const id = Number(row.id);
    await storeCompiled(t, id, input.rule);
    await fillSegment(t, id, input.rule, true);
    await audit(t, {
      action: 'segment.created',
      actorUserId: actor.user.id,
      targetType: 'segment',
      targetId: id,
      ip: actor.ip,
      details: { name: input.name }
    });
    return getSegment(t, id);
  });
}

export async function updateSegment(db: Db, actor: Actor, id: number, patch: SegmentPatch): Promise<Segment> {
  return db.transaction(async (t) => {
    const before = await segmentRow(t, id, true);
    if (Number(before.version) !== patch.version)
      throw new AppError(
        'stale_version',
        'Someone changed this segment meanwhile; reload to see their version',
        {
          current: presentSegment(before)
        }
      );
    if (patch.rule) await compile(t, patch.rule, 'set');
    if (patch.name !== undefined) {
      const [clash] = await t.query(`SELECT 1 FROM segments WHERE lower(name) = lower($1) AND id <> $2`, [
        patch.name,
        id
      ]);
      if (clash) throw new AppError('conflict', `A segment named "${patch.name}" already exists`);
    }
    await t.query(
      `UPDATE segments SET name = coalesce($2, name), description = coalesce($3, description),
              rule = coalesce($4::jsonb, rule)
        WHERE id = $1`,
      [id, patch.name ?? null, patch.description ?? null, patch.rule ? JSON.stringify(patch.rule) : null]
    );
    if (patch.rule) {
      await storeCompiled(t, id, patch.rule);
      // A changed rule moves people: they enter and leave as with any other change.
      await fillSegment(t, id, patch.rule, false);
    }
    await audit(t, {
      action: 'segment.updated',
      actorUserId: actor.user.id,
      targetType: 'segment',
      targetId: id,
      ip: actor.ip,
      details: { before: { name: before.name, rule: before.rule }, after: patch }
    });
    return getSegment(t, id);
  });
}

export async function deleteSegment(db: Db, actor: Actor, id: number): Promise<void> {
  await db.transaction(async (t) => {
    const row = await segmentRow(t, id, true);
    if (row.built_in)
      throw new AppError('conflict', 'A built-in segment cannot be deleted; change its rule instead');
    await t.query(`DELETE FROM segments WHERE id = $1`, [id]);
    await audit(t, {
      action: 'segment.deleted',
      actorUserId: actor.user.id,
      targetType: 'segment',
      targetId: id,
      ip: actor.ip,
      details: { name: row.name, rule: row.rule }
    });
  });
}

/**
 * The relation a count of `where` reads: the summary alone when the condition names no column of
 * `customers` (every summary row is a customer's, merged-away ones have none: the same rows as
 * BASE), so the count is an index's and skips the join of a million customers.
 */
export const countBase = (where: string) => (/\bc\./.test(where) ? BASE : 'customer_stats s');

/** How many customers a (draft) rule selects, counted now. */
export async function countRule(db: Db, rule: SegmentGroup): Promise<SegmentCount> {
  const { where, values } = await compileDraft(db, rule);
  const [row] = await db.query<{ n: string; at: Date }>(
    `SELECT count(*) AS n, clock_timestamp() AS at FROM ${countBase(where)} WHERE ${where}`,
    values
  );
  return { count: Number(row.n), countedAt: iso(row.at)! };
}

/** A saved segment's members, counted now (and remembered on the segment with the moment). */
export async function countSegment(db: Db, id: number): Promise<SegmentCount> {
  const [row] = await db.query<{ n: number; at: Date }>(
    `UPDATE segments SET member_count = (SELECT count(*) FROM segment_members WHERE segment_id = $1),
            counted_at = clock_timestamp()
      WHERE id = $1 RETURNING member_count AS n, counted_at AS at`,
    [id]
  );
  if (!row) throw notFound('Segment');
  return { count: Number(row.n), countedAt: iso(row.at)! };
}

/**
 * Members the planner expects a rule to select, below which a preview sorts them all. Above it,
 * walking the biggest spenders' index until the page is full is quick, since members are many;
 * below it that walk can pass most customers first: the 542 customers whose first order is this
 * month are among the smallest spenders (at 1M customers: 254 ms walking, 3 ms sorting).
 */
export const PREVIEW_SORTS_BELOW = 20_000;

/** The first members of a draft rule, biggest spenders first. */
export async function previewRule(
  db: Db,
  rule: SegmentGroup,
  sortsBelow = PREVIEW_SORTS_BELOW
): Promise<SegmentMember[]> {
  const { where, values } = await compileDraft(db, rule);
  const [plan] = await db.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(
    `EXPLAIN (FORMAT JSON) SELECT 1 FROM ${BASE} WHERE ${where}`,
    values
  );
  const order = `ORDER BY s.lifetime_spend DESC, s.customer_id DESC`;
  // OFFSET 0 keeps the members' set whole (the planner would otherwise walk the index again).
  const members =
    plan['QUERY PLAN'][0].Plan['Plan Rows'] < sortsBelow
      ? `s.customer_id IN (SELECT m.customer_id FROM (SELECT s.customer_id, s.lifetime_spend FROM ${BASE} WHERE ${where} OFFSET 0) m
          ORDER BY m.lifetime_spend DESC, m.customer_id DESC LIMIT ${SEGMENT_PREVIEW_SIZE})`
      : where;
  const rows = await db.query<Row>(
    `SELECT ${MEMBER_COLUMNS}, NULL::timestamptz AS entered_at FROM ${BASE} WHERE ${members}
      ${order} LIMIT ${SEGMENT_PREVIEW_SIZE}`,
    values
  );
  return rows.map(presentMember);
}

/** A saved segment's members, the latest to enter first; `before` pages on (entered_at, id). */
export async function segmentMembers(
  db: Db,
  id: number,
  q: { limit: number; before?: string }
): Promise<{ rows: SegmentMember[]; next: string | null }> {
  await segmentRow(db, id);
  const [at, cid] = q.before ? q.before.split('_') : [null, null];
  const rows = await db.query<Row>(
    `SELECT ${MEMBER_COLUMNS}, m.entered_at
       FROM segment_members m JOIN customers c ON c.id = m.customer_id JOIN customer_stats s ON s.customer_id = c.id
      WHERE m.segment_id = $1 AND ($2::timestamptz IS NULL OR (m.entered_at, m.customer_id) < ($2::timestamptz, $3::integer))
      ORDER BY m.entered_at DESC, m.customer_id DESC LIMIT $4`,
    [id, at, cid === null ? null : Number(cid), q.limit + 1]
  );
  const page = rows.slice(0, q.limit).map(presentMember);
  const last = rows.length > q.limit ? page[page.length - 1] : null;
  return { rows: page, next: last ? `${last.enteredAt}_${last.id}` : null };
}
