import type { MetricKey } from '$shared/schemas/metrics.js';

/** How a metric's value reads: counts, money (decimal strings), durations (seconds), CSAT (1-5), points. */
export type MetricKind = 'count' | 'money' | 'duration' | 'score' | 'points';

export interface MetricInfo {
  label: string;
  /** A few words under the label on the wallboard ("median today"). */
  detail?: string;
  kind: MetricKind;
  /** Whether a rise is good news (green) or bad (red); null when neither. */
  upIsGood: boolean | null;
  section: 'commerce' | 'support' | 'loyalty';
}

// Every metric a tile can show and a threshold can watch, in the order the editor lists them.
export const METRICS: Record<MetricKey, MetricInfo> = {
  orders_today: { label: 'Orders', detail: 'today', kind: 'count', upIsGood: true, section: 'commerce' },
  revenue_today: { label: 'Revenue', detail: 'today', kind: 'money', upIsGood: true, section: 'commerce' },
  average_order_value: {
    label: 'Average order',
    detail: 'today',
    kind: 'money',
    upIsGood: true,
    section: 'commerce'
  },
  refunds_today: { label: 'Refunds', detail: 'today', kind: 'count', upIsGood: false, section: 'commerce' },
  refund_amount_today: {
    label: 'Refunded amount',
    detail: 'today',
    kind: 'money',
    upIsGood: false,
    section: 'commerce'
  },
  open_tickets: { label: 'Open tickets', detail: 'now', kind: 'count', upIsGood: false, section: 'support' },
  unassigned: { label: 'Unassigned', detail: 'now', kind: 'count', upIsGood: false, section: 'support' },
  waiting_on_agent: {
    label: 'Waiting on agent',
    detail: 'now',
    kind: 'count',
    upIsGood: false,
    section: 'support'
  },
  sla_at_risk: { label: 'SLA at risk', detail: 'now', kind: 'count', upIsGood: false, section: 'support' },
  sla_breached: {
    label: 'SLA breached',
    detail: 'open now',
    kind: 'count',
    upIsGood: false,
    section: 'support'
  },
  first_response_median: {
    label: 'First response',
    detail: 'median today',
    kind: 'duration',
    upIsGood: false,
    section: 'support'
  },
  resolution_median: {
    label: 'Resolution',
    detail: 'median today',
    kind: 'duration',
    upIsGood: false,
    section: 'support'
  },
  csat_average: { label: 'CSAT', detail: 'today', kind: 'score', upIsGood: true, section: 'support' },
  csat_responses: {
    label: 'CSAT responses',
    detail: 'today',
    kind: 'count',
    upIsGood: true,
    section: 'support'
  },
  agents_online: { label: 'Agents online', detail: 'now', kind: 'count', upIsGood: true, section: 'support' },
  agents_busy: { label: 'Agents busy', detail: 'now', kind: 'count', upIsGood: null, section: 'support' },
  points_issued: {
    label: 'Points issued',
    detail: 'today',
    kind: 'points',
    upIsGood: true,
    section: 'loyalty'
  },
  points_redeemed: {
    label: 'Points redeemed',
    detail: 'today',
    kind: 'points',
    upIsGood: true,
    section: 'loyalty'
  },
  new_members: { label: 'New members', detail: 'today', kind: 'count', upIsGood: true, section: 'loyalty' },
  tier_upgrades: {
    label: 'Tier upgrades',
    detail: 'today',
    kind: 'count',
    upIsGood: true,
    section: 'loyalty'
  }
};

/** The comparison a new threshold starts with: alert when the metric moves the bad way. */
export function defaultComparison(key: MetricKey): 'above' | 'below' {
  return METRICS[key].upIsGood === true ? 'below' : 'above';
}
