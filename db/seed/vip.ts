import type pg from 'pg';
import { type LoyaltyTier, TICKET_PRIORITIES, type TicketPriority } from '#shared/enums.js';
import type { OrderFacts, SlaPolicies, TierThresholds, VipRule } from './types.js';
import { MINUTE } from './sales-calendar.js';

/** Reads the rule from `support_settings`. */
export async function readVipRule(client: pg.Client): Promise<VipRule> {
  const { rows } = await client.query<{ tiers: LoyaltyTier[]; value: string; priority: TicketPriority }>(
    'SELECT vip_tiers::text[] AS tiers, round(vip_lifetime_value * 100)::text AS value, vip_minimum_priority AS priority FROM support_settings'
  );
  if (rows.length === 0)
    throw new Error('support_settings has no row: the seed needs the VIP rule the migrations insert.');
  return {
    tiers: rows[0].tiers,
    lifetimeValueCents: Number(rows[0].value),
    minimumPriority: rows[0].priority
  };
}

/** Reads the SLA of every priority from `sla_policies`, as the database's due-time trigger uses it. */
export async function readSlaPolicies(client: pg.Client): Promise<SlaPolicies> {
  const { rows } = await client.query<{
    priority: TicketPriority;
    first_response_minutes: number;
    resolution_minutes: number;
  }>('SELECT priority, first_response_minutes, resolution_minutes FROM sla_policies');
  const byPriority = new Map(rows.map((row) => [row.priority, row]));
  const missing = TICKET_PRIORITIES.filter((priority) => !byPriority.has(priority));
  if (missing.length > 0)
    throw new Error(
      `sla_policies has no row for ${missing.join(', ')}: the seed needs the SLA of every priority.`
    );
  return Object.fromEntries(
    TICKET_PRIORITIES.map((priority) => {
      const row = byPriority.get(priority)!;
      return [
        priority,
        { firstResponse: row.first_response_minutes * MINUTE, resolution: row.resolution_minutes * MINUTE }
      ];
    })
  ) as SlaPolicies;
}

export function isVip(rule: VipRule, tier: LoyaltyTier | null, orders: OrderFacts[]): boolean {
  if (tier !== null && rule.tiers.includes(tier)) return true;
  let value = 0;
  for (const order of orders)
    if (order.status !== 'cancelled' && order.status !== 'refunded') value += order.totalCents;
  return value >= rule.lifetimeValueCents;
}

export function raisePriority(priority: TicketPriority, minimum: TicketPriority): TicketPriority {
  return TICKET_PRIORITIES.indexOf(priority) < TICKET_PRIORITIES.indexOf(minimum) ? minimum : priority;
}

/**
 * Reads the tier thresholds of the loyalty program in force, asking the database's own
 * `loyalty_tier_of()` (what `loyalty_account_tier()` applies, migration 0031) the tier at 0 and
 * at each of the program's thresholds: a tier can only change at one of them, so the points where
 * it does are the thresholds. The seed gives tiers on lifetime points; a program on another basis
 * (spend or points of the last 12 months) is refused rather than guessed at.
 */
export async function readTierThresholds(client: pg.Client): Promise<TierThresholds> {
  const { rows } = await client.query<{ basis: string | null; tier: LoyaltyTier; from: number }>(
    `SELECT cfg -> 'tiers' ->> 'basis' AS basis, loyalty_tier_of(cfg, p) AS tier, p AS from
       FROM (SELECT loyalty_program_at(now()) AS cfg) program,
            LATERAL (SELECT 0 AS p
                      UNION SELECT (level ->> 'threshold')::int FROM jsonb_array_elements(cfg -> 'tiers' -> 'levels') level) points
      ORDER BY p`
  );
  if (rows.length === 0 || rows[0].basis !== 'points_lifetime')
    throw new Error(
      `The loyalty program in force gives tiers on ${rows[0]?.basis ?? 'nothing'}: the seed needs tiers on lifetime points.`
    );
  return rows
    .filter((row, i) => i === 0 || row.tier !== rows[i - 1].tier)
    .map(({ tier, from }) => ({ tier, from }));
}

export function tierFor(thresholds: TierThresholds, lifetimePoints: number): LoyaltyTier {
  let tier = thresholds[0].tier;
  for (const t of thresholds) if (lifetimePoints >= t.from) tier = t.tier;
  return tier;
}
