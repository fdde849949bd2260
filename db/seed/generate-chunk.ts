import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { SeedContext } from './types.js';
import { addCustomerRow, createCustomerProfile } from './generate-customers.js';
import { generateLoyalty } from './generate-loyalty.js';
import { generateOrders } from './generate-orders.js';
import { generateReviews } from './generate-reviews.js';
import { generateTickets } from './generate-tickets.js';
import { Random } from './random.js';
import { createCustomerBatches, type CustomerBatches } from './tables.js';
import { isVip } from './vip.js';

/** Customers generated between two yields, so that a running insert keeps being fed meanwhile. */
const CUSTOMERS_PER_SLICE = 250;

/**
 * Customers `first`..`last` with everything that belongs to them. Each customer draws from their
 * own random stream (seed, customer id) and ids are handed out in customer order, so the rows do
 * not depend on how the customers are split into chunks.
 */
export async function generateCustomerChunk(
  ctx: SeedContext,
  first: number,
  last: number
): Promise<CustomerBatches> {
  const batches = createCustomerBatches();
  for (let id = first; id <= last; id++) {
    const rng = new Random(ctx.seed, id);
    const profile = createCustomerProfile(rng, ctx, id);
    const orders = generateOrders(rng, ctx, profile, batches);
    const tier = generateLoyalty(rng, ctx, profile, orders, batches);
    const vip = isVip(ctx.vipRule, tier, orders);
    addCustomerRow(rng, ctx, profile, orders, vip, batches.customers);
    generateTickets(rng, ctx, profile, orders, vip, batches);
    generateReviews(rng, ctx, profile, orders, batches.reviews);
    if ((id - first + 1) % CUSTOMERS_PER_SLICE === 0) await yieldToEventLoop();
  }
  return batches;
}
