import type { LoyaltyTier } from '#shared/enums.js';
import type {
  ActivityReport,
  LiabilityReport,
  RecentEntry,
  TierReport,
  TopMember
} from '#shared/schemas/loyalty-report.js';
import { TIER_ORDER } from '#shared/schemas/loyalty-report.js';
import type { Db } from '../../data/db.js';
import { presentLoyaltyEntry } from '../../presenters/live-shapes.js';
import { camelKeys } from '../../presenters/camel-keys.js';

// The loyalty screen's numbers, read straight from the ledger's tables. Each is one set-based
// statement: they run on every visit of the screen and stay well under a second at a million
// members (see tests/bench/loyalty.ts).

/** What the liability figures need from the program in force. */
export interface LiabilityTerms {
  /** Money per point, a decimal string ("0.01"). */
  pointValue: string;
  /** Points expire this many months after they were earned; null: never. */
  expiryMonths: number | null;
}

const TREND_DAYS = 30;

/**
 * Members per tier now and 30 days ago. The tier a member had then is the `from_tier` of their
 * first tier change after that moment (loyalty_tier_changes), or today's tier when it has not
 * changed since; members who joined later did not count then.
 */
export async function tierReport(db: Db): Promise<TierReport> {
  const rows = await db.query<{ tier: LoyaltyTier; members: string; before: string }>(
    `WITH since AS (SELECT now() - make_interval(days => $1) AS at),
          first_change AS (
            SELECT DISTINCT ON (c.account_id) c.account_id, c.from_tier
              FROM loyalty_tier_changes c, since
             WHERE c.changed_at > since.at
             ORDER BY c.account_id, c.changed_at, c.id),
          per AS (
            SELECT a.tier AS now_tier,
                   CASE WHEN a.joined_at <= since.at THEN coalesce(f.from_tier, a.tier) END AS before_tier
              FROM loyalty_accounts a CROSS JOIN since
              LEFT JOIN first_change f ON f.account_id = a.id)
     SELECT tier, sum(now_count) AS members, sum(before_count) AS before
       FROM (SELECT now_tier AS tier, 1 AS now_count, 0 AS before_count FROM per
             UNION ALL
             SELECT before_tier, 0, 1 FROM per WHERE before_tier IS NOT NULL) counted
      GROUP BY tier`,
    [TREND_DAYS]
  );
  const [totals] = await db.query<{ members: string; joined: string; since: Date }>(
    `SELECT count(*) AS members,
            count(*) FILTER (WHERE joined_at > now() - make_interval(days => $1)) AS joined,
            now() - make_interval(days => $1) AS since
       FROM loyalty_accounts`,
    [TREND_DAYS]
  );
  const byTier = new Map(rows.map((r) => [r.tier, r]));
  return {
    tiers: TIER_ORDER.map((tier) => ({
      tier,
      members: Number(byTier.get(tier)?.members ?? 0),
      before: Number(byTier.get(tier)?.before ?? 0)
    })),
    members: Number(totals.members),
    joined: Number(totals.joined),
    since: new Date(totals.since).toISOString()
  };
}

/** The members with the most lifetime points. */
export async function topMembers(db: Db, limit: number): Promise<TopMember[]> {
  const rows = await db.query<{
    customer_id: number;
    first_name: string;
    last_name: string;
    email: string;
    tier: LoyaltyTier;
    balance: number;
    lifetime_points: number;
    grace_tier: LoyaltyTier | null;
    grace_until: Date | null;
  }>(
    `SELECT a.customer_id, c.first_name, c.last_name, c.email, a.tier, a.balance, a.lifetime_points,
            g.kept_tier AS grace_tier, g.until AS grace_until
       FROM loyalty_accounts a
       JOIN customers c ON c.id = a.customer_id
       LEFT JOIN LATERAL (
         SELECT kept_tier, until FROM loyalty_tier_grace g
          WHERE g.account_id = a.id AND g.until > now() ORDER BY g.until DESC LIMIT 1) g ON true
      ORDER BY a.lifetime_points DESC, a.id
      LIMIT $1`,
    [limit]
  );
  return rows.map((r) => ({
    customerId: r.customer_id,
    name: `${r.first_name} ${r.last_name ?? ''}`.trim(),
    email: r.email,
    tier: r.tier,
    balance: r.balance,
    lifetimePoints: r.lifetime_points,
    grace: r.grace_tier && r.grace_until ? { tier: r.grace_tier, until: r.grace_until.toISOString() } : null
  }));
}

const SPAN_BUCKET = { '30': 'day', '90': 'week', '365': 'month' } as const;

/**
 * Points issued (earns, and adjustments that add), redeemed and expired per bucket, each as a
 * positive number; reversals of earns count against issued, reversals of redemptions against
 * redeemed. Every bucket of the span is present, empty ones as zeros.
 */
export async function activityReport(db: Db, days: '30' | '90' | '365'): Promise<ActivityReport> {
  const bucket = SPAN_BUCKET[days];
  const rows = await db.query<{ bucket: string; issued: string; redeemed: string; expired: string }>(
    `WITH span AS (
       SELECT date_trunc($1, now() - make_interval(days => $2 - 1)) AS start, date_trunc($1, now()) AS stop),
     buckets AS (
       SELECT generate_series(span.start, span.stop, ('1 ' || $1)::interval) AS bucket FROM span),
     moves AS (
       SELECT date_trunc($1, l.created_at) AS bucket,
              CASE WHEN l.kind = 'earn' OR (l.kind = 'adjust' AND l.points > 0) THEN l.points
                   WHEN l.kind = 'reverse' AND t.kind = 'earn' THEN l.points ELSE 0 END AS issued,
              CASE WHEN l.kind = 'redeem' THEN -l.points
                   WHEN l.kind = 'reverse' AND t.kind = 'redeem' THEN -l.points ELSE 0 END AS redeemed,
              CASE WHEN l.kind = 'expire' THEN -l.points ELSE 0 END AS expired
         FROM loyalty_ledger l
         LEFT JOIN loyalty_ledger t ON t.id = l.reverses_id
        CROSS JOIN span
        WHERE l.created_at >= span.start)
     SELECT to_char(b.bucket, 'YYYY-MM-DD') AS bucket,
            coalesce(sum(m.issued), 0) AS issued,
            coalesce(sum(m.redeemed), 0) AS redeemed,
            coalesce(sum(m.expired), 0) AS expired
       FROM buckets b LEFT JOIN moves m ON m.bucket = b.bucket
      GROUP BY b.bucket ORDER BY b.bucket`,
    [bucket, Number(days)]
  );
  const points = rows.map((r) => ({
    bucket: r.bucket,
    issued: Number(r.issued),
    redeemed: Number(r.redeemed),
    expired: Number(r.expired)
  }));
  const sum = (k: 'issued' | 'redeemed' | 'expired') => points.reduce((s, p) => s + p[k], 0);
  return {
    bucket,
    points,
    totals: { issued: sum('issued'), redeemed: sum('redeemed'), expired: sum('expired') }
  };
}

/**
 * What members hold and what it is worth. Redemptions spend the oldest points first, so a
 * balance is made of the member's newest earns: walking each member's earns from the newest,
 * an earn still holds what the balance has not covered yet. An earn expires `expiryMonths`
 * after it was made; the 30/60/90 day windows count what is held and expires within them.
 */
export async function liabilityReport(db: Db, terms: LiabilityTerms): Promise<LiabilityReport> {
  const [row] = await db.query<{
    outstanding: string;
    e30: string;
    e60: string;
    e90: string;
    v_out: string;
    v30: string;
    v60: string;
    v90: string;
  }>(
    `WITH held AS (
       SELECT l.created_at,
              greatest(0, least(l.points,
                a.balance - (sum(l.points) OVER (PARTITION BY l.account_id ORDER BY l.created_at DESC, l.id DESC) - l.points)
              )) AS points
         FROM loyalty_ledger l
         JOIN loyalty_accounts a ON a.id = l.account_id
        WHERE l.kind = 'earn' AND a.balance > 0
          AND NOT EXISTS (SELECT 1 FROM loyalty_ledger r WHERE r.reverses_id = l.id)),
     expiring AS (
       SELECT coalesce(sum(points) FILTER (WHERE created_at + $1::interval < now() + interval '30 days'), 0) AS e30,
              coalesce(sum(points) FILTER (WHERE created_at + $1::interval < now() + interval '60 days'), 0) AS e60,
              coalesce(sum(points) FILTER (WHERE created_at + $1::interval < now() + interval '90 days'), 0) AS e90
         FROM held WHERE $1::interval IS NOT NULL AND points > 0),
     totals AS (SELECT coalesce(sum(balance), 0) AS outstanding FROM loyalty_accounts)
     SELECT t.outstanding, e.e30, e.e60, e.e90,
            (t.outstanding * $2::numeric)::numeric(16, 2)::text AS v_out,
            (e.e30 * $2::numeric)::numeric(16, 2)::text AS v30,
            (e.e60 * $2::numeric)::numeric(16, 2)::text AS v60,
            (e.e90 * $2::numeric)::numeric(16, 2)::text AS v90
       FROM totals t CROSS JOIN expiring e`,
    [terms.expiryMonths === null ? null : `${terms.expiryMonths} months`, terms.pointValue]
  );
  return {
    outstanding: Number(row.outstanding),
    outstandingValue: row.v_out,
    pending: 0,
    pendingValue: '0.00',
    expiring: [
      { days: 30, points: Number(row.e30), value: row.v30 },
      { days: 60, points: Number(row.e60), value: row.v60 },
      { days: 90, points: Number(row.e90), value: row.v90 }
    ],
    pointValue: Number(terms.pointValue).toFixed(2),
    method: 'fifo',
    expiryMonths: terms.expiryMonths
  };
}

/** The latest ledger entries, newest first, with the member's name. */
export async function recentActivity(db: Db, limit: number): Promise<RecentEntry[]> {
  const rows = await db.query<Record<string, unknown>>(
    `SELECT l.id, l.account_id, a.customer_id, l.kind, l.points, l.reason, l.order_id, l.bonus, l.created_at,
            btrim(c.first_name || ' ' || coalesce(c.last_name, '')) AS customer_name
       FROM loyalty_ledger l
       JOIN loyalty_accounts a ON a.id = l.account_id
       JOIN customers c ON c.id = a.customer_id
      ORDER BY l.created_at DESC, l.id DESC
      LIMIT $1`,
    [limit]
  );
  return rows.map((r) => ({
    ...presentLoyaltyEntry(camelKeys(r)),
    customerName: String(r.customer_name)
  }));
}
