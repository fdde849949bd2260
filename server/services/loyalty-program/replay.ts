import { LOYALTY_TIERS, type LoyaltyTier } from '#shared/enums.js';
import type { ProgramConfig } from '#shared/schemas/loyalty-program.js';
import type { Db } from '../../data/db.js';

// The impact preview's SQL: the last 12 months replayed under two programs (the version in force,
// `a`, and the draft, `b`), set-based over every member at once.
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

/** The window's spend per customer is gathered, a range of customers at a time, into this table. */
export const SPEND_TABLE = 'pg_temp.loyalty_preview_spend';
/** What the multipliers and bonuses of each program add per customer (gatherExtras). */
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

export async function createSpendTable(db: Db) {
  await db.query(
    `CREATE TEMP TABLE IF NOT EXISTS loyalty_preview_spend (customer_id integer NOT NULL, spend numeric NOT NULL)
       ON COMMIT DROP`
  );
  await db.query(
    `CREATE TEMP TABLE IF NOT EXISTS loyalty_preview_extra (
       customer_id integer NOT NULL, lines_a numeric NOT NULL, lines_b numeric NOT NULL,
       bonus_a integer NOT NULL, bonus_b integer NOT NULL) ON COMMIT DROP`
  );
}

const hasMultipliers = (t: ReplayTerms) =>
  t.categoryMultipliers.length > 0 || t.productMultipliers.length > 0;
const hasBonuses = (t: ReplayTerms) => t.bonuses.signUp + t.bonuses.birthday + t.bonuses.firstReview > 0;

/**
 * What each program's multipliers and bonuses add per customer over the replay window (see the
 * head of this file), into EXTRA_TABLE. Lines are read only for products either program
 * multiplies, found through the products index, and nothing at all when neither program has
 * multipliers or bonuses.
 */
export async function gatherExtras(db: Db, timezone: string, a: ReplayTerms, b: ReplayTerms) {
  const lines = hasMultipliers(a) || hasMultipliers(b);
  const bonuses = hasBonuses(a) || hasBonuses(b);
  if (!lines && !bonuses) return;
  const rates = (t: ReplayTerms) => [
    JSON.stringify(t.productMultipliers),
    JSON.stringify(t.categoryMultipliers)
  ];
  await db.query(
    `WITH window_start AS (
       SELECT (date_trunc('month', now() AT TIME ZONE $1) - make_interval(months => $2 - 1)) AT TIME ZONE $1 AS since),
     pa AS (SELECT "productId" AS id, max(multiplier) AS m FROM jsonb_to_recordset($3::jsonb) AS x ("productId" int, multiplier numeric) GROUP BY 1),
     ca AS (SELECT "categoryId" AS id, max(multiplier) AS m FROM jsonb_to_recordset($4::jsonb) AS x ("categoryId" int, multiplier numeric) GROUP BY 1),
     pb AS (SELECT "productId" AS id, max(multiplier) AS m FROM jsonb_to_recordset($5::jsonb) AS x ("productId" int, multiplier numeric) GROUP BY 1),
     cb AS (SELECT "categoryId" AS id, max(multiplier) AS m FROM jsonb_to_recordset($6::jsonb) AS x ("categoryId" int, multiplier numeric) GROUP BY 1),
     multiplied AS (
       SELECT p.id, coalesce(pa.m, ca.m, 1) AS m_a, coalesce(pb.m, cb.m, 1) AS m_b
         FROM products p
         LEFT JOIN pa ON pa.id = p.id LEFT JOIN ca ON ca.id = p.category_id
         LEFT JOIN pb ON pb.id = p.id LEFT JOIN cb ON cb.id = p.category_id
        WHERE $7::boolean AND (p.id IN (SELECT id FROM pa UNION SELECT id FROM pb)
                               OR p.category_id IN (SELECT id FROM ca UNION SELECT id FROM cb))),
     line_extra AS (
       SELECT o.customer_id, sum(i.quantity * i.unit_price * (m.m_a - 1)) AS lines_a,
              sum(i.quantity * i.unit_price * (m.m_b - 1)) AS lines_b
         FROM multiplied m
         JOIN order_items i ON i.product_id = m.id
         JOIN orders o ON o.id = i.order_id
        WHERE o.order_date >= (SELECT since FROM window_start) AND o.status NOT IN ('cancelled', 'refunded')
        GROUP BY o.customer_id),
     bonus_events AS (
       SELECT c.id AS customer_id, c.created_at >= w.since AS signed_up, c.birth_date IS NOT NULL AS birthday,
              coalesce((SELECT min(r.created_at) FROM reviews r WHERE r.customer_id = c.id) >= w.since, false) AS reviewed
         FROM customers c CROSS JOIN window_start w
        WHERE $8::boolean AND c.merged_into IS NULL
          AND (c.created_at >= w.since OR c.birth_date IS NOT NULL
               OR EXISTS (SELECT 1 FROM reviews r WHERE r.customer_id = c.id AND r.created_at >= w.since)))
     INSERT INTO loyalty_preview_extra (customer_id, lines_a, lines_b, bonus_a, bonus_b)
     SELECT coalesce(l.customer_id, e.customer_id), coalesce(l.lines_a, 0), coalesce(l.lines_b, 0),
            coalesce(e.signed_up::int * $9 + e.birthday::int * $10 + e.reviewed::int * $11, 0),
            coalesce(e.signed_up::int * $12 + e.birthday::int * $13 + e.reviewed::int * $14, 0)
       FROM line_extra l FULL JOIN bonus_events e ON e.customer_id = l.customer_id`,
    [
      timezone,
      REPLAY_MONTHS,
      ...rates(a),
      ...rates(b),
      lines,
      bonuses,
      a.bonuses.signUp,
      a.bonuses.birthday,
      a.bonuses.firstReview,
      b.bonuses.signUp,
      b.bonuses.birthday,
      b.bonuses.firstReview
    ]
  );
}

/**
 * The spend of customers `from <= id < to` over the replay window, from the analytics rollup
 * (customer_order_stats keeps running totals month by month, so a customer's window is two array
 * lookups instead of a scan of their orders). The window is the last REPLAY_MONTHS calendar months
 * of the store, this one included; orders count as analytics counts them (not cancelled or refunded).
 * The caller has made the rollups fresh (ensureFresh).
 */
export async function gatherCustomers(db: Db, timezone: string, from: number, to: number) {
  await db.query(
    `WITH now_month AS (
       SELECT extract(year FROM now() AT TIME ZONE $1)::int * 12 + extract(month FROM now() AT TIME ZONE $1)::int - 1 AS m)
     INSERT INTO loyalty_preview_spend (customer_id, spend)
     SELECT customer_id, (cum_cents[hi] - coalesce(cum_cents[lo], 0)) / 100.0
       FROM (SELECT s.customer_id, s.cum_cents,
                    least(n.m - s.first_month + 1, cardinality(s.cum_cents)) AS hi,
                    least(n.m - $4::int - s.first_month + 1, cardinality(s.cum_cents)) AS lo
               FROM customer_order_stats s CROSS JOIN now_month n
              WHERE s.customer_id >= $2 AND s.customer_id < $3
                AND s.last_order_at >= now() - make_interval(months => $4 + 1)) k
      WHERE hi >= 1 AND cum_cents[hi] - coalesce(cum_cents[lo], 0) > 0`,
    [timezone, from, to, REPLAY_MONTHS]
  );
}

/** The customer id range the rollup covers, for cutting the gathering into steps. */
export async function customerIdRange(db: Db): Promise<{ min: number; max: number }> {
  const [row] = await db.query<{ min: number | null; max: number | null }>(
    `SELECT min(customer_id) AS min, max(customer_id) AS max FROM customer_order_stats`
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
 * The CTEs that replay both programs over every member ($1 ppu_a, $2 thresholds_a, $3
 * multipliers_a, $4 ppu_b, $5 thresholds_b, $6 multipliers_b), ending in `tiered`: per account
 * its id, actual tier and its rank, balance, the points each program earns and the rank of the
 * tier each gives. Arithmetic in float8 (points are rounded down to whole ones): numeric cost
 * several times more per row.
 */
function tieredCtes(a: ReplayTerms, b: ReplayTerms): string {
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
  return `
    WITH spend AS (
      SELECT customer_id, sum(spend) AS spend FROM loyalty_preview_spend GROUP BY customer_id),
    extra AS (
      SELECT customer_id, sum(lines_a) AS lines_a, sum(lines_b) AS lines_b,
             sum(bonus_a) AS bonus_a, sum(bonus_b) AS bonus_b
        FROM loyalty_preview_extra GROUP BY customer_id),
    m AS (
      SELECT a.id AS account_id, a.tier AS actual,
             CASE a.tier WHEN 'bronze' THEN 1 WHEN 'silver' THEN 2 WHEN 'gold' THEN 3 ELSE 4 END AS actual_rank,
             a.balance, a.lifetime_points, coalesce(s.spend, 0)::float8 AS spend,
             coalesce(x.lines_a, 0)::float8 AS lines_a, coalesce(x.lines_b, 0)::float8 AS lines_b,
             coalesce(x.bonus_a, 0)::float8 AS bonus_a, coalesce(x.bonus_b, 0)::float8 AS bonus_b
        FROM loyalty_accounts a LEFT JOIN spend s ON s.customer_id = a.customer_id
        LEFT JOIN extra x ON x.customer_id = a.customer_id),
    a0 AS MATERIALIZED (
      SELECT m.*, ${base('$1', 'lines_a')} AS base_a, ${base('$4', 'lines_b')} AS base_b FROM m),
    a1 AS MATERIALIZED (
      SELECT a0.*, ${whole(`base_a * ($3::float8[])[${tier0(a.basis, '(base_a + bonus_a)', '$2::int[]', '(base_a + bonus_a)')}]`)} + bonus_a AS earned_a
        FROM a0),
    a2 AS MATERIALIZED (
      SELECT a1.*, ${whole(`base_b * ($6::float8[])[${tier0(b.basis, '(base_b + bonus_b)', '$5::int[]', 'earned_a')}]`)} + bonus_b AS earned_b
        FROM a1),
    tiered AS MATERIALIZED (
      SELECT account_id, actual, actual_rank, balance, earned_a, earned_b,
             ${tierOf(basisValue(a.basis, 'earned_a'), '$2::int[]')} AS tier_a,
             ${tierOf(basisValue(b.basis, 'earned_b'), '$5::int[]')} AS tier_b
        FROM a2)`;
}

const replayParams = (a: ReplayTerms, b: ReplayTerms) => [
  a.pointsPerUnit,
  a.thresholds,
  a.multipliers,
  b.pointsPerUnit,
  b.thresholds,
  b.multipliers
];

/** Compares the two programs over every member, from the gathered spend. */
export async function compare(db: Db, a: ReplayTerms, b: ReplayTerms): Promise<ReplayResult> {
  const sql = `${tieredCtes(a, b)},
    per_tier AS (
      SELECT t.rank, coalesce(sum(x.current), 0) AS current, coalesce(sum(x.draft), 0) AS draft
        FROM generate_series(1, 4) t(rank)
        LEFT JOIN (SELECT tier_a AS rank, 1 AS current, 0 AS draft FROM tiered
                   UNION ALL SELECT tier_b, 0, 1 FROM tiered) x ON x.rank = t.rank
       GROUP BY t.rank),
    totals AS (
      SELECT count(*) AS members,
             count(*) FILTER (WHERE tier_b > tier_a) AS up,
             count(*) FILTER (WHERE tier_b < tier_a) AS down,
             coalesce(sum(balance), 0) AS before_points,
             coalesce(sum(greatest(0, balance + earned_b - earned_a)), 0) AS after_points
        FROM tiered)
    SELECT members, up, down, before_points, after_points,
           (before_points * $7::numeric)::numeric(18, 2)::text AS before_value,
           (after_points * $8::numeric)::numeric(18, 2)::text AS after_value,
           (SELECT jsonb_agg(jsonb_build_object('rank', rank, 'current', current, 'draft', draft) ORDER BY rank)
              FROM per_tier) AS tiers
      FROM totals`;
  const [row] = await db.query<{
    members: string;
    up: string;
    down: string;
    before_points: string;
    after_points: string;
    before_value: string;
    after_value: string;
    tiers: { rank: number; current: number; draft: number }[];
  }>(sql, [...replayParams(a, b), a.pointValue, b.pointValue]);
  return {
    members: Number(row.members),
    up: Number(row.up),
    down: Number(row.down),
    tiers: row.tiers.map((t) => ({
      tier: LOYALTY_TIERS[t.rank - 1],
      current: Number(t.current),
      draft: Number(t.draft)
    })),
    liability: {
      before: { points: Number(row.before_points), value: row.before_value },
      after: { points: Number(row.after_points), value: row.after_value }
    }
  };
}
