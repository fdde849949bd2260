import type pg from 'pg';
import { type LoyaltyTier, TICKET_PRIORITIES, type TicketPriority } from '#shared/enums.js';
import type { OrderFacts } from './generate-orders.js';
import { MINUTE } from './sales-calendar.js';

/**
 * Who is a VIP, as the database's ticket trigger (`ticket_flag_vip`, settings in `support_settings`)
 * decides it: a loyalty tier in `tiers`, or a lifetime value (orders neither cancelled nor refunded)
 * of at least `lifetimeValueCents`. The seed decides the same way, so that the trigger agrees with
 * the generated ticket (flag, raised priority, due times computed from that priority).
 */
export interface VipRule {
  tiers: readonly LoyaltyTier[];
  lifetimeValueCents: number;
  /** A VIP's ticket is raised to at least this priority. */
  minimumPriority: TicketPriority;
}

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

/** A priority's SLA, in seconds after the ticket was opened. */
export interface SlaPolicy {
  firstResponse: number;
  resolution: number;
}
export type SlaPolicies = Record<TicketPriority, SlaPolicy>;

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

/** The lifetime points from which each tier starts, lowest first: what `loyalty_tier_for()` decides. */
export type TierThresholds = readonly { tier: LoyaltyTier; from: number }[];

/** The lifetime points the search for tier thresholds covers. */
const TIER_SEARCH_LIMIT = 1_000_000;

/**
 * Reads the tier thresholds from the database's `loyalty_tier_for()`, as the ledger trigger applies
 * it, so the seed's tiers agree with the trigger's whatever the program says. Tiers rise with
 * points, so the lowest points of each tier are its threshold.
 */
export async function readTierThresholds(client: pg.Client): Promise<TierThresholds> {
  const { rows } = await client.query<{ tier: LoyaltyTier; from: number }>(
    `SELECT tier, min(p)::int AS from FROM generate_series(0, $1) p, loyalty_tier_for(p) tier GROUP BY tier ORDER BY 2`,
    [TIER_SEARCH_LIMIT]
  );
  if (rows.length === 0 || rows[0].from !== 0)
    throw new Error('loyalty_tier_for() gives no tier from 0 points: the seed needs the loyalty tiers.');
  return rows;
}

export function tierFor(thresholds: TierThresholds, lifetimePoints: number): LoyaltyTier {
  let tier = thresholds[0].tier;
  for (const t of thresholds) if (lifetimePoints >= t.from) tier = t.tier;
  return tier;
}
