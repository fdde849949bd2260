import { type Random, Weighted } from './random.js';
import { DAY, HOUR } from './sales-calendar.js';
import type { CustomerBatches } from './tables.js';
import type { CustomerProfile, OrderFacts, ProductInfo, SeedContext } from './types.js';
import { REVIEW_CLOSINGS, REVIEW_DETAILS, REVIEW_OPENINGS, REVIEW_TITLES } from './vocabulary/reviews.js';

/** How many products a customer reviews, among those delivered to them (~1 review per 4 customers). */
const REVIEW_COUNT = new Weighted([
  [0, 75],
  [1, 21],
  [2, 3],
  [3, 1]
] as const);
const RATINGS_LIKED = new Weighted([
  [1, 3],
  [2, 3],
  [3, 7],
  [4, 27],
  [5, 60]
] as const);
const RATINGS_USUAL = new Weighted([
  [1, 7],
  [2, 6],
  [3, 11],
  [4, 28],
  [5, 48]
] as const);
const RATINGS_DISLIKED = new Weighted([
  [1, 20],
  [2, 15],
  [3, 20],
  [4, 25],
  [5, 20]
] as const);

/** Reviews of products the customer received, written days after delivery; one per product at most. */
export function generateReviews(
  rng: Random,
  ctx: SeedContext,
  profile: CustomerProfile,
  orders: OrderFacts[],
  batch: CustomerBatches['reviews']
): void {
  const deliveredAt = new Map<ProductInfo, number>();
  for (const order of orders) {
    if (order.status !== 'delivered' || order.deliveredAt === null) continue;
    for (const product of order.products)
      if (!deliveredAt.has(product)) deliveredAt.set(product, order.deliveredAt);
  }
  if (deliveredAt.size === 0) return;
  const wanted = Math.min(REVIEW_COUNT.sample(rng), deliveredAt.size);
  const candidates = [...deliveredAt.keys()];
  for (let n = 0; n < wanted; n++) {
    const product = candidates.splice(rng.int(0, candidates.length - 1), 1)[0];
    const received = deliveredAt.get(product)!;
    const rating = (
      product.quality > 0.5 ? RATINGS_LIKED : product.quality < -0.5 ? RATINGS_DISLIKED : RATINGS_USUAL
    ).sample(rng);
    let writtenAt = received + rng.int(HOUR, 20 * DAY);
    if (writtenAt > ctx.now) writtenAt = received + Math.floor((ctx.now - received) * rng.next());
    batch.add({
      id: ctx.ids.review++,
      customer_id: profile.id,
      product_id: product.id,
      rating,
      title: rng.pick(REVIEW_TITLES[rating]),
      body: reviewBody(rng, rating, product.noun),
      created_at: writtenAt
    });
  }
}

function reviewBody(rng: Random, rating: number, noun: string): string {
  const sentences = [rng.pick(REVIEW_OPENINGS[rating])];
  if (rng.chance(0.7)) sentences.push(rng.pick(REVIEW_DETAILS[rating]));
  if (rng.chance(0.6)) sentences.push(rng.pick(REVIEW_CLOSINGS[rating]));
  return sentences.join(' ').replaceAll('{product}', noun);
}
