import type { OrderStatus } from '#shared/enums.js';
import { sampleChannel } from './generate-customers.js';
import { type Random, Weighted } from './random.js';
import { DAY, HOUR, MINUTE } from './sales-calendar.js';
import type { CustomerBatches } from './tables.js';
import type { CustomerProfile, OrderFacts, ProductInfo, SeedContext } from './types.js';

const MAX_ORDERS_PER_CUSTOMER = 150;
const ITEM_COUNT = new Weighted([
  [1, 52],
  [2, 27],
  [3, 12],
  [4, 6],
  [5, 3]
] as const);
const QUANTITY = new Weighted([
  [1, 80],
  [2, 14],
  [3, 4],
  [4, 1],
  [6, 1]
] as const);
const PAYMENT = new Weighted([
  ['card', 62],
  ['paypal', 18],
  ['apple_pay', 12],
  ['gift_card', 4],
  ['klarna', 4]
] as const);

export function generateOrders(
  rng: Random,
  ctx: SeedContext,
  profile: CustomerProfile,
  batches: CustomerBatches
): OrderFacts[] {
  const orders: OrderFacts[] = [];
  for (const orderedAt of orderMoments(rng, ctx, profile)) {
    const id = ctx.ids.order++;
    const externalId = `SHOP-${100000 + id}`;
    const products: ProductInfo[] = [];
    let totalCents = 0;
    const itemCount = ITEM_COUNT.sample(rng);
    for (let n = 0; n < itemCount; n++) {
      let product = ctx.catalogue.pick(rng);
      for (let retry = 0; retry < 4 && products.includes(product); retry++) product = ctx.catalogue.pick(rng);
      if (products.includes(product)) continue;
      products.push(product);
      const quantity = QUANTITY.sample(rng);
      const unitCents = rng.chance(0.12)
        ? Math.round(product.priceCents * (1 - rng.pick([0.1, 0.15, 0.2, 0.25])))
        : product.priceCents;
      totalCents += quantity * unitCents;
      batches.orderItems.add({
        id: ctx.ids.orderItem++,
        order_id: id,
        product_id: product.id,
        quantity,
        unit_price: unitCents
      });
    }

    const life = lifecycle(rng, orderedAt, ctx.now);
    batches.orders.add({
      id,
      customer_id: profile.id,
      order_date: orderedAt,
      status: life.status,
      total: totalCents,
      currency: 'USD',
      channel: sampleChannel(rng, profile),
      external_id: externalId,
      attributes: JSON.stringify(orderAttributes(rng, profile, orderedAt, orders.length === 0)),
      created_at: orderedAt,
      updated_at: life.updatedAt
    });
    orders.push({
      id,
      externalId,
      orderedAt,
      status: life.status,
      totalCents,
      products,
      shippedAt: life.shippedAt,
      deliveredAt: life.deliveredAt,
      refundedAt: life.refundedAt,
      cancelledAt: life.cancelledAt
    });
  }
  return orders;
}

/**
 * When a customer orders: new customers usually buy right after signing up, then at their own
 * rate for as long as they have been customers, on days the sales calendar makes likely.
 */
function orderMoments(rng: Random, ctx: SeedContext, profile: CustomerProfile): number[] {
  const from = Math.max(profile.createdAt, ctx.windowStart);
  const moments: number[] = [];
  if (profile.createdAt >= ctx.windowStart && rng.chance(0.85)) {
    moments.push(Math.min(profile.createdAt + Math.round(rng.exponential(6 * HOUR)), ctx.now - MINUTE));
  }
  const months = (ctx.now - from) / (30 * DAY);
  const more = Math.min(rng.poisson(profile.orderRate * months), MAX_ORDERS_PER_CUSTOMER);
  for (let i = 0; i < more; i++) moments.push(ctx.calendar.between(rng, from, ctx.now - MINUTE));
  return moments.sort((a, b) => a - b);
}

interface Lifecycle {
  status: OrderStatus;
  updatedAt: number;
  shippedAt: number | null;
  deliveredAt: number | null;
  refundedAt: number | null;
  cancelledAt: number | null;
}

/** An order's whole future is drawn up front; its status is wherever that future stands at `now`. */
function lifecycle(rng: Random, orderedAt: number, now: number): Lifecycle {
  const steps: Array<[OrderStatus, number]> = [];
  const cancelled = rng.chance(0.035);
  // Most payments clear within minutes; bank transfers and pay-later checks take up to two days.
  const paidAt = orderedAt + (rng.chance(0.04) ? rng.int(HOUR, 48 * HOUR) : rng.int(MINUTE, 30 * MINUTE));
  if (cancelled) {
    if (rng.chance(0.6)) steps.push(['paid', paidAt]);
    steps.push(['cancelled', orderedAt + rng.int(30 * MINUTE, 30 * HOUR)]);
  } else {
    const fulfilledAt = paidAt + rng.int(4 * HOUR, 36 * HOUR);
    const shippedAt = fulfilledAt + rng.int(2 * HOUR, 24 * HOUR);
    const deliveredAt = shippedAt + rng.int(DAY, 6 * DAY);
    steps.push(
      ['paid', paidAt],
      ['fulfilled', fulfilledAt],
      ['shipped', shippedAt],
      ['delivered', deliveredAt]
    );
    if (rng.chance(0.05)) steps.push(['refunded', deliveredAt + rng.int(3 * DAY, 30 * DAY)]);
  }
  const life: Lifecycle = {
    status: 'pending',
    updatedAt: orderedAt,
    shippedAt: null,
    deliveredAt: null,
    refundedAt: null,
    cancelledAt: null
  };
  for (const [status, at] of steps) {
    if (at > now) break;
    life.status = status;
    life.updatedAt = at;
    if (status === 'shipped') life.shippedAt = at;
    if (status === 'delivered') life.deliveredAt = at;
    if (status === 'refunded') life.refundedAt = at;
    if (status === 'cancelled') life.cancelledAt = at;
  }
  return life;
}

function orderAttributes(rng: Random, profile: CustomerProfile, orderedAt: number, first: boolean) {
  const month = new Date(orderedAt * 1000).getUTCMonth();
  const campaign =
    first && rng.chance(0.25) ? 'welcome-email' : month === 10 && rng.chance(0.3) ? 'black-friday' : null;
  return {
    payment: PAYMENT.sample(rng),
    shipping: {
      city: profile.city.name,
      region: profile.city.region,
      method: rng.chance(0.15) ? 'express' : 'standard'
    },
    ...(campaign ? { campaign } : {}),
    ...(rng.chance(month === 11 ? 0.15 : 0.04) ? { gift: true } : {})
  };
}
