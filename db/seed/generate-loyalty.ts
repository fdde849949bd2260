import type { LoyaltyTier } from '#shared/enums.js';
import { earnKey, pointsEarned, voucherFor, voucherReason } from './loyalty-rules.js';
import type { Random } from './random.js';
import { MINUTE } from './sales-calendar.js';
import type { CustomerBatches } from './tables.js';
import type { CustomerProfile, OrderFacts, SeedContext } from './types.js';
import { tierFor } from './vip.js';

const REDEEM_CHANCE = 0.3;

interface LedgerEvent {
  at: number;
  kind: 'earn' | 'reverse' | 'redeem';
  order: OrderFacts;
}

/**
 * A member's account and ledger, replayed in time order the way the shop would have written it:
 * 1 point per whole dollar when an order ships, the same points taken back when it is refunded, and
 * now and then a voucher redeemed at checkout. The database trigger keeps balance, lifetime points
 * and tier; redemptions only spend points whose order will never be refunded, so no reversal can
 * ever drive the balance below zero. Returns the member's resulting tier (null: not a member).
 */
export function generateLoyalty(
  rng: Random,
  ctx: SeedContext,
  profile: CustomerProfile,
  orders: OrderFacts[],
  batches: CustomerBatches
): LoyaltyTier | null {
  if (!profile.loyaltyMember) return null;
  const accountId = ctx.ids.loyaltyAccount++;
  const joinedAt = profile.createdAt + rng.int(0, 10 * MINUTE);
  batches.loyaltyAccounts.add({
    id: accountId,
    customer_id: profile.id,
    joined_at: joinedAt,
    updated_at: joinedAt
  });

  const events: LedgerEvent[] = [];
  for (const order of orders) {
    if (order.orderedAt > joinedAt) {
      events.push({ at: order.orderedAt - rng.int(MINUTE, 10 * MINUTE), kind: 'redeem', order });
    }
    if (order.shippedAt !== null && pointsEarned(order.totalCents) > 0) {
      events.push({ at: order.shippedAt, kind: 'earn', order });
      if (order.refundedAt !== null) events.push({ at: order.refundedAt, kind: 'reverse', order });
    }
  }
  events.sort((a, b) => a.at - b.at || a.order.id - b.order.id);

  const earnIds = new Map<OrderFacts, number>();
  // The member's lots, oldest first, as the database keeps them: redemptions spend the oldest
  // points first, and a refund takes back only what is left of its order's lot.
  const lots: { order: OrderFacts; remaining: number }[] = [];
  let spendable = 0;
  let lifetime = 0;
  let redemptions = 0;
  for (const event of events) {
    const points = pointsEarned(event.order.totalCents);
    if (event.kind === 'earn') {
      const entryId = ctx.ids.loyaltyEntry++;
      earnIds.set(event.order, entryId);
      if (event.order.refundedAt === null) spendable += points;
      lifetime += points;
      lots.push({ order: event.order, remaining: points });
      batches.loyaltyLedger.add({
        id: entryId,
        account_id: accountId,
        kind: 'earn',
        points,
        reason: `Earned on order ${event.order.externalId}`,
        order_id: event.order.id,
        reverses_id: null,
        idempotency_key: earnKey(event.order.id),
        created_at: event.at
      });
    } else if (event.kind === 'reverse') {
      lifetime -= points;
      const lot = lots.find((l) => l.order === event.order)!;
      const whole = lot.remaining === points;
      batches.loyaltyLedger.add({
        id: ctx.ids.loyaltyEntry++,
        account_id: accountId,
        kind: whole ? 'reverse' : 'adjust',
        points: -lot.remaining,
        reason: whole
          ? `Refund of order ${event.order.externalId}`
          : `Refund of order ${event.order.externalId} (${points - lot.remaining} points already spent)`,
        order_id: event.order.id,
        reverses_id: earnIds.get(event.order)!,
        idempotency_key: whole ? `order:${event.order.id}:reverse` : `order:${event.order.id}:clawback`,
        created_at: event.at
      });
      lot.remaining = 0;
    } else {
      const cost = voucherFor(spendable);
      if (!cost || !rng.chance(REDEEM_CHANCE)) continue;
      spendable -= cost;
      redemptions++;
      let due = cost;
      for (const lot of lots) {
        const take = Math.min(due, lot.remaining);
        lot.remaining -= take;
        due -= take;
        if (due === 0) break;
      }
      batches.loyaltyLedger.add({
        id: ctx.ids.loyaltyEntry++,
        account_id: accountId,
        kind: 'redeem',
        points: -cost,
        reason: voucherReason(cost),
        order_id: null,
        reverses_id: null,
        idempotency_key: `account:${accountId}:redeem:${redemptions}`,
        created_at: event.at
      });
    }
  }
  return tierFor(ctx.tiers, lifetime);
}
