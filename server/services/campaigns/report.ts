import { newcombeInterval, welchInterval } from '#shared/rules/lift.js';
import type { CampaignArm, CampaignReport, CampaignSeriesPoint } from '#shared/schemas/campaigns.js';
import { reportSession, type Db } from '../../data/db.js';
import { getCampaign } from './campaigns.js';

// The campaign report. Which orders, points and codes count is written down in README.md next to
// this file; the SQL below is that text, clause by clause. Both groups are measured by the same
// rules from the moment each member was assigned, so the comparison stays fair.

/** Up to this much of the window so far is charted by the hour, more by the day. */
const HOURLY_UP_TO_MS = 3 * 24 * 3600_000;

// Each member's attribution window: from the later of their assignment and the campaign's start,
// to the campaign's end (exclusive).
const MEMBERS = `
  members AS (
    SELECT m.customer_id, m.arm, m.ledger_entry_id,
           greatest(m.assigned_at, c.starts_at) AS from_at, c.ends_at AS to_at
      FROM campaign_members m JOIN campaigns c ON c.id = m.campaign_id
     WHERE m.campaign_id = $1),
  attributed AS (
    SELECT mb.customer_id, mb.arm, o.id, o.total, o.order_date, o.attributes ->> 'discount_code' AS code
      FROM members mb
      JOIN orders o ON o.customer_id = mb.customer_id
                   AND o.order_date >= mb.from_at AND o.order_date < mb.to_at
                   AND o.status NOT IN ('cancelled', 'refunded'))`;

interface ArmRow {
  arm: 'treatment' | 'holdout';
  members: number;
  converted: number;
  orders: number;
  revenue: string;
  mean: number;
  variance: number;
  points: number;
  bonus: number;
}

const emptyArm = (): CampaignArm => ({
  members: 0,
  converted: 0,
  orders: 0,
  revenue: '0.00',
  revenuePerMember: 0,
  pointsPerMember: 0,
  conversionRate: 0,
  codesIssued: 0,
  codesRedeemed: 0,
  bonusPoints: 0
});

export async function campaignReport(db: Db, id: number): Promise<CampaignReport> {
  return reportSession(db, async (t) => {
    const campaign = await getCampaign(t, id);
    const [{ now }] = await t.query<{ now: Date }>(`SELECT now()`);

    const arms = await t.query<ArmRow>(
      `WITH ${MEMBERS},
       per_member AS (
         SELECT mb.arm, mb.customer_id, mb.ledger_entry_id,
                coalesce(sum(a.total), 0) AS revenue, count(a.id)::integer AS orders
           FROM members mb LEFT JOIN attributed a ON a.customer_id = mb.customer_id
          GROUP BY mb.arm, mb.customer_id, mb.ledger_entry_id),
       points AS (
         -- Points earned inside the member's window (earns, less reversals of earns): what the
         -- members' own activity earned, not the campaign's bonus (an adjustment).
         SELECT mb.customer_id, sum(l.points)::bigint AS points
           FROM members mb
           JOIN loyalty_accounts la ON la.customer_id = mb.customer_id
           JOIN loyalty_ledger l ON l.account_id = la.id AND l.created_at >= mb.from_at AND l.created_at < mb.to_at
           LEFT JOIN loyalty_ledger r ON r.id = l.reverses_id
          WHERE l.kind = 'earn' OR (l.kind = 'reverse' AND r.kind = 'earn')
          GROUP BY mb.customer_id)
       SELECT p.arm, count(*)::integer AS members,
              count(*) FILTER (WHERE p.orders > 0)::integer AS converted,
              sum(p.orders)::integer AS orders,
              to_char(sum(p.revenue), 'FM999999999990.00') AS revenue,
              avg(p.revenue)::float8 AS mean,
              coalesce(var_samp(p.revenue), 0)::float8 AS variance,
              coalesce(avg(coalesce(pt.points, 0)), 0)::float8 AS points,
              coalesce(sum(bonus.points), 0)::integer AS bonus
         FROM per_member p
         LEFT JOIN points pt ON pt.customer_id = p.customer_id
         LEFT JOIN loyalty_ledger bonus ON bonus.id = p.ledger_entry_id
        GROUP BY p.arm`,
      [id]
    );

    // A code is redeemed once an order has used it (the database marks it, migration 0031).
    const [codes] = await t.query<{ issued: number; redeemed: number }>(
      `SELECT count(*)::integer AS issued, count(k.used_order_id)::integer AS redeemed
         FROM campaign_codes k WHERE k.campaign_id = $1`,
      [id]
    );

    const unit =
      Date.parse(campaign.endsAt) - Date.parse(campaign.startsAt) <= HOURLY_UP_TO_MS ? 'hour' : 'day';
    const buckets = await t.query<{ bucket: Date; arm: 'treatment' | 'holdout'; revenue: number }>(
      `WITH ${MEMBERS}
       SELECT date_bin($2::interval, a.order_date, c.starts_at) AS bucket, a.arm, sum(a.total)::float8 AS revenue
         FROM attributed a CROSS JOIN campaigns c WHERE c.id = $1
        GROUP BY 1, 2 ORDER BY 1`,
      [id, unit === 'hour' ? '1 hour' : '1 day']
    );

    const byArm = { treatment: emptyArm(), holdout: emptyArm() };
    const moments = { treatment: { n: 0, mean: 0, variance: 0 }, holdout: { n: 0, mean: 0, variance: 0 } };
    for (const row of arms) {
      byArm[row.arm] = {
        ...emptyArm(),
        members: row.members,
        converted: row.converted,
        orders: row.orders,
        revenue: row.revenue,
        revenuePerMember: row.mean,
        pointsPerMember: row.points,
        conversionRate: row.members ? row.converted / row.members : 0,
        bonusPoints: row.bonus
      };
      moments[row.arm] = { n: row.members, mean: row.mean, variance: row.variance };
    }
    byArm.treatment.codesIssued = codes.issued;
    byArm.treatment.codesRedeemed = codes.redeemed;

    const { treatment, holdout } = byArm;
    return {
      campaign,
      asOf: now.toISOString(),
      treatment,
      holdout,
      lift: {
        revenuePerMember: welchInterval(moments.treatment, moments.holdout),
        conversion: newcombeInterval(
          treatment.converted,
          treatment.members,
          holdout.converted,
          holdout.members
        ),
        relativeRevenue:
          holdout.revenuePerMember > 0 ? treatment.revenuePerMember / holdout.revenuePerMember - 1 : null
      },
      series: {
        unit,
        points: cumulativeSeries(campaign.startsAt, campaign.endsAt, now, unit, buckets, byArm)
      }
    };
  });
}

/**
 * Cumulative attributed revenue per member at the end of each bucket, from the window's start to
 * now (or its end). Per member of the group as it is now: members who enter later count from the
 * start, which flattens the early part of the line a little; the totals at the end are exact.
 */
function cumulativeSeries(
  startsAt: string,
  endsAt: string,
  now: Date,
  unit: 'hour' | 'day',
  buckets: { bucket: Date; arm: 'treatment' | 'holdout'; revenue: number }[],
  arms: Record<'treatment' | 'holdout', CampaignArm>
): CampaignSeriesPoint[] {
  const step = unit === 'hour' ? 3600_000 : 24 * 3600_000;
  const start = Date.parse(startsAt);
  const last = Math.min(Date.parse(endsAt), now.getTime());
  if (last < start) return [];
  const sums = new Map<number, { treatment: number; holdout: number }>();
  for (const b of buckets) {
    const key = b.bucket.getTime();
    const entry = sums.get(key) ?? { treatment: 0, holdout: 0 };
    entry[b.arm] += b.revenue;
    sums.set(key, entry);
  }
  // The line starts at zero when the window opens.
  const points: CampaignSeriesPoint[] = [{ at: startsAt, treatment: 0, holdout: 0 }];
  const running = { treatment: 0, holdout: 0 };
  for (let at = start; at <= last && points.length <= 1000; at += step) {
    const s = sums.get(at);
    if (s) {
      running.treatment += s.treatment;
      running.holdout += s.holdout;
    }
    points.push({
      at: new Date(Math.min(at + step, Date.parse(endsAt))).toISOString(),
      treatment: arms.treatment.members ? running.treatment / arms.treatment.members : 0,
      holdout: arms.holdout.members ? running.holdout / arms.holdout.members : 0
    });
  }
  return points;
}
