import type { IdCounters } from './types.js';

/** How an agent signs: the first word of their name. */
export function firstNameOf(name: string): string {
  return name.split(' ')[0];
}

export function newIdCounters(): IdCounters {
  return {
    order: 1,
    orderItem: 1,
    ticket: 1,
    ticketMessage: 1,
    review: 1,
    loyaltyAccount: 1,
    loyaltyEntry: 1
  };
}
