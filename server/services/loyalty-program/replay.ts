import { LOYALTY_TIERS, type LoyaltyTier } from '#shared/enums.js';
import type { ProgramConfig } from '#shared/schemas/loyalty-program.js';
import type { Db } from '../../data/db.js';

// The impact preview's SQL: the last 12 months replayed under two programs (the version in force,
// `a`, and the draft, `b`), set-based: one pass over a range of members computes, for each, the
// points both programs would have earned and the tiers they would give, and sums only what the
// comparison needs (counts and points), so ranges add up and nothing per member is stored.
//
// Per member: `spend` is the spend of the last 12 calendar months (orders that are not cancelled
// or refunded, from the analytics rollup); `lines_X` what the program's category and product
// multipliers add to it (each line of a multiplied product or category in those orders,
// quantity x unit price x (multiplier - 1), a product's multiplier beating its category's, as
// loyalty_earn_order earns); `bonus_X` the program's bonuses the member would have had in the
// window (sign-up if they joined in it, a birthday if the shop knows it, a first review written
// in it). Under a program X:
//   base_X   = floor((spend + lines_X) * X.pointsPerUnit)        order points before the tier multiplier
//   tier0_X  = the tier of the basis value computed from base_X + bonus_X
//   earned_X = floor(base_X * X.multiplier[tier0_X]) + bonus_X  points the year would have earned
//   value_X  = spend_12m: floor(spend) | points_12m: earned_X |
//              points_lifetime: max(0, lifetime_points - earned_a) + earned_X
//   tier_X   = the tier of value_X
// Liability: each member's balance moved by what the draft earns more or less than the version
// in force (never below zero), at each program's point value.
// Both programs are replayed the same way, so an unchanged draft moves nobody. Order lines are
// read only for the products a program multiplies (directly or by category), so a program without
// multipliers costs nothing more (docs/decisions.md).

/** What the multipliers and bonuses of each program add per customer (prepareExtras). */
export const EXTRA_TABLE = 'pg_temp.loyalty_preview_extra';
export const REPLAY_MONTHS = 12;

export interface ReplayTerms {
  pointsPerUnit: number;
  basis: ProgramConfig['tiers']['basis'];
  thresholds: number[];
  multipliers: number[];
  pointValue: string;
  categoryMultipliers: ProgramConfig['earn']['categoryMultipliers'];
  productMultipliers: ProgramConfig['earn']['productMultipliers'];
  bonuses: ProgramConfig['earn']['bonuses'];
}

export const termsOf = (config: ProgramConfig): ReplayTerms => ({
  pointsPerUnit: config.earn.pointsPerUnit,
  basis: config.tiers.basis,
  thresholds: config.tiers.levels.map((l) => l.threshold),
  multipliers: config.tiers.levels.map((l) => l.multiplier),
  pointValue: config.pointValue,
  categoryMultipliers: config.earn.categoryMultipliers,
  productMultipliers: config.earn.productMultipliers,
  bonuses: config.earn.bonuses
});

export interface ReplayResult {
  members: number;
  up: number;
  down: number;
  /** Members per tier under the version in force and under the draft. */
  tiers: { tier: LoyaltyTier; current: number; draft: number }[];
  liability: {
    before: { points: number; value: string };
    after: { points: number; value: string };
  };
}

const hasMultipliers = (t: ReplayTerms) =>
  t.categoryMultipliers.length > 0 || t.productMultipliers.length > 0;
const hasBonuses = (t: ReplayTerms) => t.bonuses.signUp + t.bonuses.birthday + t.bonuses.firstReview > 0;

/**
 * What each program's multipliers and bonuses add per customer over the replay window (see the
 * head of this file), into EXTRA_TABLE. Lines are read only for products either program
 * multiplies, found through the products index, and nothing at all when neither program has
 * multipliers or bonuses (then it answers false, and the replay joins no table). Bonus events
 * read the reviews once, grouped by customer (a first review in the window; any review in it),
 * rather than two lookups for each of a million customers (1.0 s -> 0.6 s).
 */
export async function prepareExtras(
  db: Db,
  timezone: string,
  a: ReplayTerms,
  b: ReplayTerms
): Promise<boolean> {
  const lines = hasMultipliers(a) || hasMultipliers(b);
  const bonuses = hasBonuses(a) || hasBonuses(b);
  if (!lines && !bonuses) return false;
  const rates = (t: ReplayTerms) => [
    JSON.stringify(t.productMultipliers),
    JSON.stringify(t.categoryMultipliers)
  ];
  // The multiplied products first, as a list: inside the statement below the planner guessed
  // hundreds of them for a hundred, and joined every order line of the window to its order before
  // keeping the multiplied ones (64 s at 5M orders against seconds for the lines of those products).
  const multiplied = lines
    ? await db.query<{ id: number; m_a: string; m_b: string }>(
        `WITH pa AS (SELECT "productId" AS id, max(multiplier) AS m FROM jsonb_to_recordset($1::jsonb) AS x ("productId" int, multiplier numeric) GROUP BY 1),
         ca AS (SELECT "categoryId" AS id, max(multiplier) AS m FROM jsonb_to_recordset($2::jsonb) AS x ("categoryId" int, multiplier numeric) GROUP BY 1),
         pb AS (SELECT "productId" AS id, max(multiplier) AS m FROM jsonb_to_recordset($3::jsonb) AS x ("productId" int, multiplier numeric) GROUP BY 1),
         cb AS (SELECT "categoryId" AS id, max(multiplier) AS m FROM jsonb_to_recordset($4::jsonb) AS x ("categoryId" int, multiplier numeric) GROUP BY 1)
         SELECT p.id, coalesce(pa.m, ca.m, 1)::text AS m_a, coalesce(pb.m, cb.m, 1)::text AS m_b
           FROM products p
           LEFT JOIN pa ON pa.id = p.id LEFT JOIN ca ON ca.id = p.category_id
           LEFT JOIN pb ON pb.id = p.id LEFT JOIN cb ON cb.id = p.category_id
          WHERE p.id IN (SELECT id FROM pa UNION SELECT id FROM pb)
             OR p.category_id IN (SELECT id FROM ca UNION SELECT id FROM cb)`,
        [...rates(a), ...rates(b)]
      )
    : [];
  // CREATE TABLE AS rather than INSERT: Postgres plans no parallel workers for an INSERT, and the
  // lines' join to the window's orders and their sums by customer are most of a preview (at 1.79M
  // lines and 3.1M orders: 7.5 s as an INSERT summing numeric, 5.0-5.9 s so, summing float8 as
  // the replay computes anyway).
  await db.query(`DROP TABLE IF EXISTS ${EXTRA_TABLE}`);
  await db.query(
    `CREATE TEMP TABLE ${EXTRA_TABLE} ON COMMIT DROP AS
     WITH window_start AS (
       SELECT (date_trunc('month', now() AT TIME ZONE $1) - make_interval(months => $2 - 1)) AT TIME ZONE $1 AS since),
     multiplied AS (SELECT * FROM unnest($3::int[], $4::float8[], $5::float8[]) AS m (id, m_a, m_b)),
     line_extra AS (
       SELECT o.customer_id, sum(i.quantity * i.unit_price::float8 * (m.m_a - 1)) AS lines_a,
              sum(i.quantity * i.unit_price::float8 * (m.m_b - 1)) AS lines_b
         FROM order_items i
         JOIN multiplied m ON m.id = i.product_id
         JOIN orders o ON o.id = i.order_id
        WHERE i.product_id = ANY ($3::int[])
          AND o.order_date >= (SELECT since FROM window_start) AND o.status NOT IN ('cancelled', 'refunded')
        GROUP BY o.customer_id),
     reviewed AS (
       SELECT r.customer_id, min(r.created_at) AS first_at, max(r.created_at) AS last_at
         FROM reviews r WHERE $6::boolean GROUP BY r.customer_id),
     bonus_events AS (
       SELECT c.id AS customer_id, c.created_at >= w.since AS signed_up, c.birth_date IS NOT NULL AS birthday,
              coalesce(r.first_at >= w.since, false) AS reviewed
         FROM customers c CROSS JOIN window_start w
         LEFT JOIN reviewed r ON r.customer_id = c.id
        WHERE $6::boolean AND c.merged_into IS NULL
          AND (c.created_at >= w.since OR c.birth_date IS NOT NULL OR r.last_at >= w.since))
     SELECT coalesce(l.customer_id, e.customer_id) AS customer_id,
            coalesce(l.lines_a, 0) AS lines_a, coalesce(l.lines_b, 0) AS lines_b,
            coalesce(e.signed_up::int * $7 + e.birthday::int * $8 + e.reviewed::int * $9, 0) AS bonus_a,
            coalesce(e.signed_up::int * $10 + e.birthday::int * $11 + e.reviewed::int * $12, 0) AS bonus_b
       FROM line_extra l FULL JOIN bonus_events e ON e.customer_id = l.customer_id`,
    [
      timezone,
      REPLAY_MONTHS,
      multiplied.map((m) => m.id),
      multiplied.map((m) => m.m_a),
      multiplied.map((m) => m.m_b),
      bonuses,
      a.bonuses.signUp,
      a.bonuses.birthday,
      a.bonuses.firstReview,
      b.bonuses.signUp,
      b.bonuses.birthday,
      b.bonuses.firstReview
    ]
  );
  await db.query(`ALTER TABLE ${EXTRA_TABLE} ADD PRIMARY KEY (customer_id)`);
  await db.query(`ANALYZE ${EXTRA_TABLE}`);
  return true;
}

/** The customer ids of the members, for cutting the replay into steps of a progress bar. */
export async function memberIdRange(db: Db): Promise<{ min: number; max: number }> {
  const [row] = await db.query<{ min: number | null; max: number | null }>(
    `SELECT min(customer_id) AS min, max(customer_id) AS max FROM loyalty_accounts`
  );
  return { min: row.min ?? 0, max: row.max ?? 0 };
}

/**
 * The tier of `value` under thresholds `th` (a parameter, lowest first) as its rank, 1 (bronze)
 * to 4 (platinum). Ranks, not the enum: building or searching an enum array per row cost 14 µs a
 * row here, most of a preview at a million members.
 */
const tierOf = (value: string, th: string) =>
  `CASE WHEN ${value} >= (${th})[4] THEN 4 WHEN ${value} >= (${th})[3] THEN 3 WHEN ${value} >= (${th})[2] THEN 2 ELSE 1 END`;
/** Points are whole: a product rounded down, with room for binary fractions (0.1 x 30 is 2.9999...). */
const whole = (product: string) => `floor(${product} + 1e-9)`;

/** The basis value of a program from a row with spend, lifetime_points, earned_a. */
function basisValue(basis: ReplayTerms['basis'], earned: string) {
  switch (basis) {
    case 'spend_12m':
      return whole('spend');
    case 'points_12m':
      return earned;
    case 'points_lifetime':
      return `(greatest(0, lifetime_points - earned_a) + ${earned})`;
  }
}

/**
 * One pass over the members `from <= customer_id < to` ($9, $10) replaying both programs ($1
 * ppu_a, $2 thresholds_a, $3 multipliers_a, $4 ppu_b, $5 thresholds_b, $6 multipliers_b; $7 the
 * time zone, $8 REPLAY_MONTHS), summed as the comparison needs them. Each member's window spend is
 * two lookups in the analytics rollup's running totals (customer_order_stats, joined by its key),
 * never a scan of their orders. Each step of the head of this file is a subquery kept apart by
 * `OFFSET 0`: nothing is materialized, and the planner does not fold the steps into one
 * expression, where each reference repeats the step below (tried: the expression grows
 * exponentially, ten minutes for 70,000 members). Arithmetic in float8: numeric costs several
 * times more per row; the window's cents / 100 is the double nearest the exact amount either way.
 */
function replaySql(a: ReplayTerms, b: ReplayTerms, extras: boolean): string {
  const base = (ppu: string, lines: string) => whole(`(spend + ${lines}) * ${ppu}::float8`);
  const tier0 = (basis: ReplayTerms['basis'], own: string, th: string, earnedA: string) => {
    const v =
      basis === 'spend_12m'
        ? whole('spend')
        : basis === 'points_12m'
          ? own
          : `(greatest(0, lifetime_points - ${earnedA}) + ${own})`;
    return tierOf(v, th);
  };
  const extra = (column: string) => (extras ? `coalesce(x.${column}, 0)::float8` : '0::float8');
  // The extras' join names the range too, so each step reads its range of that table through its
  // key instead of hashing all of it (ten steps: 1.0 s -> 0.28 s at 600,000 rows).
  // The window is the last $8 calendar months of the store, this one included: running totals up
  // to this month (hi) less those up to the month before the window (lo), each capped at the last
  // month the customer has; a customer without a counted order has no row and spends 0. Computed
  // in the scan itself, so parallel workers do it and pass on one number instead of the arrays.
  const hi = `least(n.m - s.first_month + 1, cardinality(s.cum_cents))`;
  const lo = `least(n.m - $8::int - s.first_month + 1, cardinality(s.cum_cents))`;
  const cents = `(s.cum_cents[${hi}] - coalesce(s.cum_cents[${lo}], 0))`;
  const spend = `
    SELECT a.balance, a.lifetime_points,
           CASE WHEN ${hi} >= 1 AND ${cents} > 0 THEN ${cents}::float8 / 100 ELSE 0 END AS spend,
           ${extra('lines_a')} AS lines_a, ${extra('lines_b')} AS lines_b,
           ${extra('bonus_a')} AS bonus_a, ${extra('bonus_b')} AS bonus_b
      FROM loyalty_accounts a
     CROSS JOIN (SELECT extract(year FROM now() AT TIME ZONE $7)::int * 12
                        + extract(month FROM now() AT TIME ZONE $7)::int - 1 AS m) n
      LEFT JOIN customer_order_stats s ON s.customer_id = a.customer_id
      ${extras ? `LEFT JOIN ${EXTRA_TABLE} x ON x.customer_id = a.customer_id AND x.customer_id >= $9 AND x.customer_id < $10` : ''}
     WHERE a.customer_id >= $9 AND a.customer_id < $10
    OFFSET 0`;
  const based = `
    SELECT m.*, ${base('$1', 'lines_a')} AS base_a, ${base('$4', 'lines_b')} AS base_b
      FROM (${spend}) m OFFSET 0`;
  const earnedA = `
    SELECT a0.*, ${whole(`base_a * ($3::float8[])[${tier0(a.basis, '(base_a + bonus_a)', '$2::int[]', '(base_a + bonus_a)')}]`)} + bonus_a AS earned_a
      FROM (${based}) a0 OFFSET 0`;
  const earnedB = `
    SELECT a1.*, ${whole(`base_b * ($6::float8[])[${tier0(b.basis, '(base_b + bonus_b)', '$5::int[]', 'earned_a')}]`)} + bonus_b AS earned_b
      FROM (${earnedA}) a1 OFFSET 0`;
  const tiered = `
    SELECT balance, earned_a, earned_b,
           ${tierOf(basisValue(a.basis, 'earned_a'), '$2::int[]')} AS tier_a,
           ${tierOf(basisValue(b.basis, 'earned_b'), '$5::int[]')} AS tier_b
      FROM (${earnedB}) a2 OFFSET 0`;
  const perTier = [1, 2, 3, 4]
    .flatMap((rank) => [
      `count(*) FILTER (WHERE tier_a = ${rank}) AS current_${rank}`,
      `count(*) FILTER (WHERE tier_b = ${rank}) AS draft_${rank}`
    ])
    .join(', ');
  return `
    SELECT count(*) AS members,
           count(*) FILTER (WHERE tier_b > tier_a) AS up,
           count(*) FILTER (WHERE tier_b < tier_a) AS down,
           coalesce(sum(balance), 0) AS before_points,
           coalesce(sum(greatest(0, balance + earned_b - earned_a)), 0) AS after_points,
           ${perTier}
      FROM (${tiered}) t`;
}

/** What a range of members adds to the comparison; ranges add up (addTotals). */
export interface ReplayTotals {
  members: number;
  up: number;
  down: number;
  beforePoints: number;
  afterPoints: number;
  /** Members per tier rank (bronze first) under the version in force and under the draft. */
  current: number[];
  draft: number[];
}

export const NO_TOTALS: ReplayTotals = {
  members: 0,
  up: 0,
  down: 0,
  beforePoints: 0,
  afterPoints: 0,
  current: [0, 0, 0, 0],
  draft: [0, 0, 0, 0]
};

export const addTotals = (x: ReplayTotals, y: ReplayTotals): ReplayTotals => ({
  members: x.members + y.members,
  up: x.up + y.up,
  down: x.down + y.down,
  beforePoints: x.beforePoints + y.beforePoints,
  afterPoints: x.afterPoints + y.afterPoints,
  current: x.current.map((n, i) => n + y.current[i]),
  draft: x.draft.map((n, i) => n + y.draft[i])
});

/**
 * Replays both programs over the members `from <= customer_id < to`. `extras` says whether
 * prepareExtras filled its table (in this transaction). The caller has made the rollups fresh
 * (ensureFresh).
 */
export async function replayMembers(
  db: Db,
  timezone: string,
  a: ReplayTerms,
  b: ReplayTerms,
  range: { from: number; to: number; extras: boolean }
): Promise<ReplayTotals> {
  const [row] = await db.query<Record<string, string>>(replaySql(a, b, range.extras), [
    a.pointsPerUnit,
    a.thresholds,
    a.multipliers,
    b.pointsPerUnit,
    b.thresholds,
    b.multipliers,
    timezone,
    REPLAY_MONTHS,
    range.from,
    range.to
  ]);
  return {
    members: Number(row.members),
    up: Number(row.up),
    down: Number(row.down),
    beforePoints: Number(row.before_points),
    afterPoints: Number(row.after_points),
    current: [1, 2, 3, 4].map((rank) => Number(row[`current_${rank}`])),
    draft: [1, 2, 3, 4].map((rank) => Number(row[`draft_${rank}`]))
  };
}

/** The comparison from every member's totals: points, and their value at each program's point value. */
export async function replayResult(
  db: Db,
  totals: ReplayTotals,
  a: ReplayTerms,
  b: ReplayTerms
): Promise<ReplayResult> {
  const [row] = await db.query<{ before_value: string; after_value: string }>(
    `SELECT ($1::numeric * $2::numeric)::numeric(18, 2)::text AS before_value,
            ($3::numeric * $4::numeric)::numeric(18, 2)::text AS after_value`,
    [totals.beforePoints, a.pointValue, totals.afterPoints, b.pointValue]
  );
  return {
    members: totals.members,
    up: totals.up,
    down: totals.down,
    tiers: LOYALTY_TIERS.map((tier, i) => ({ tier, current: totals.current[i], draft: totals.draft[i] })),
    liability: {
      before: { points: totals.beforePoints, value: row.before_value },
      after: { points: totals.afterPoints, value: row.after_value }
    }
  };
}

/**
 * The whole replay in `steps` ranges of members, `onStep(k)` after each (k from 1). Runs its
 * statements on `db` as given: a transaction, for the extras' temporary table.
 */
export async function replay(
  db: Db,
  timezone: string,
  a: ReplayTerms,
  b: ReplayTerms,
  opts: { steps: number; onStep?: (step: number) => Promise<void> }
): Promise<ReplayResult> {
  const extras = await prepareExtras(db, timezone, a, b);
  const { min, max } = await memberIdRange(db);
  const width = Math.max(1, Math.ceil((max - min + 1) / opts.steps));
  let totals = NO_TOTALS;
  for (let step = 0; step < opts.steps; step++) {
    const from = min + step * width;
    totals = addTotals(totals, await replayMembers(db, timezone, a, b, { from, to: from + width, extras }));
    await opts.onStep?.(step + 1);
  }
  return replayResult(db, totals, a, b);
}
