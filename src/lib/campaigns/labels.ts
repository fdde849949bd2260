import type { Tone } from '$lib/components/status.js';
import { formatMoney } from '$lib/format.js';
import type { Campaign, CampaignStatus } from '$shared/schemas/campaigns.js';

export const STATUS_LABEL: Record<CampaignStatus, string> = {
  draft: 'Draft',
  scheduled: 'Scheduled',
  running: 'Running',
  ended: 'Ended'
};

export const STATUS_TONE: Record<CampaignStatus, Tone> = {
  draft: 'neutral',
  scheduled: 'info',
  running: 'success',
  ended: 'accent'
};

/** "250 bonus points" or "Unique code: $10 voucher". */
export function incentiveLabel(incentive: Campaign['incentive']): string {
  if (incentive.kind === 'points') return `${incentive.points.toLocaleString()} bonus points`;
  const r = incentive.reward;
  const value = r.amount ? ` (${formatMoney(r.amount)} off)` : r.percent ? ` (${r.percent}% off)` : '';
  return `Unique code: ${r.name}${value}`;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function windowLabel(c: Pick<Campaign, 'startsAt' | 'endsAt'>): string {
  return `${dateFormat.format(new Date(c.startsAt))} – ${dateFormat.format(new Date(c.endsAt))}`;
}
