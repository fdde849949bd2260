import type pg from 'pg';
import type { Priority } from './conversation.js';
import type { OrderFacts } from './generate-orders.js';

export type LoyaltyTier = 'bronze' | 'silver' | 'gold' | 'platinum';

/**
 * Who is a VIP, as the database's ticket trigger (`ticket_flag_vip`, settings in `support_settings`)
 * decides it: a loyalty tier in `tiers`, or a lifetime value (orders neither cancelled nor refunded)
 * of at least `lifetimeValueCents`. The seed decides the same way, so that the trigger agrees with
 * the generated ticket (flag, raised priority, due times computed from that priority).
 */
export interface VipRule {
  tiers: readonly LoyaltyTier[];
  lifetimeValueCents: number;
  /** A VIP's ticket is raised to at least this priority; null where the schema has no such rule. */
  minimumPriority: Priority | null;
}

const PRIORITY_ORDER: readonly Priority[] = ['low', 'normal', 'high', 'urgent'];

/** Reads the rule from `support_settings` when the schema has it; the same defaults otherwise. */
export async function readVipRule(client: pg.Client): Promise<VipRule> {
  const fallback: VipRule = { tiers: ['gold', 'platinum'], lifetimeValueCents: 200_000, minimumPriority: null };
  const { rows: exists } = await client.query<{ ok: boolean }>("SELECT to_regclass('support_settings') IS NOT NULL AS ok");
  if (!exists[0].ok) return fallback;
  const { rows } = await client.query<{ tiers: unknown; value: string; priority: Priority }>(
    'SELECT vip_tiers::text[] AS tiers, round(vip_lifetime_value * 100)::text AS value, vip_minimum_priority AS priority FROM support_settings'
  );
  if (rows.length === 0) return fallback;
  return {
    tiers: parseTextArray(rows[0].tiers) as LoyaltyTier[],
    lifetimeValueCents: Number(rows[0].value),
    minimumPriority: rows[0].priority
  };
}

export function isVip(rule: VipRule, tier: LoyaltyTier | null, orders: OrderFacts[]): boolean {
  if (tier !== null && rule.tiers.includes(tier)) return true;
  let value = 0;
  for (const order of orders) if (order.status !== 'cancelled' && order.status !== 'refunded') value += order.totalCents;
  return value >= rule.lifetimeValueCents;
}

export function raisePriority(priority: Priority, minimum: Priority | null): Priority {
  if (minimum === null) return priority;
  return PRIORITY_ORDER.indexOf(priority) < PRIORITY_ORDER.indexOf(minimum) ? minimum : priority;
}

/** Same thresholds as the database's loyalty_tier_for(). */
export function tierFor(lifetimePoints: number): LoyaltyTier {
  if (lifetimePoints >= 20_000) return 'platinum';
  if (lifetimePoints >= 8000) return 'gold';
  if (lifetimePoints >= 2000) return 'silver';
  return 'bronze';
}

// pg returns text[] as a JS array already, but a plain string when the type parser is not set up.
function parseTextArray(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return String(value).replace(/^\{|\}$/g, '').split(',').filter(Boolean);
}
