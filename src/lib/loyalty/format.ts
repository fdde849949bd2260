import { formatMoney } from '$lib/format.js';
import type { LoyaltyBonus, LoyaltyEntryKind } from '$shared/enums.js';
import type { Reward } from '$shared/schemas/loyalty-program.js';

/** A moment with its year when it is not this year (program versions span years). */
export function formatMoment(iso: string): string {
  const d = new Date(iso);
  return d.toLocaleString(undefined, {
    day: 'numeric',
    month: 'short',
    ...(d.getFullYear() !== new Date().getFullYear() ? { year: 'numeric' } : {}),
    hour: '2-digit',
    minute: '2-digit'
  });
}

/** What a reward gives, in a few words ("10% off", "€5.00 off", "Free shipping"). */
export function rewardBenefit(reward: Reward): string {
  switch (reward.kind) {
    case 'fixed_discount':
      return `${formatMoney(reward.amount)} off`;
    case 'percent_discount':
      return `${reward.percent}% off`;
    case 'free_shipping':
      return 'Free shipping';
    case 'gift_product':
      return `Gift: product #${reward.productId}`;
  }
}

/** Ledger entry kinds as people say them. */
export const ENTRY_LABELS: Record<LoyaltyEntryKind, string> = {
  earn: 'Earned',
  redeem: 'Redeemed',
  reverse: 'Reversed',
  expire: 'Expired',
  adjust: 'Adjusted'
};

/** Bonus events (loyalty_ledger.bonus) as people say them. */
export const BONUS_LABELS: Record<LoyaltyBonus, string> = {
  sign_up: 'Sign-up bonus',
  birthday: 'Birthday bonus',
  first_review: 'First review bonus'
};

/** What a ledger entry is, in words: its bonus when it is one ("Birthday bonus"), else its kind ("Earned"). */
export const entryLabel = (entry: { kind: LoyaltyEntryKind; bonus?: LoyaltyBonus | null }): string =>
  entry.bonus ? BONUS_LABELS[entry.bonus] : ENTRY_LABELS[entry.kind];
