import type { Random } from './random.js';
import type { SalesCalendar } from './sales-calendar.js';
import type { SlaPolicies, TierThresholds, VipRule } from './vip.js';

export interface ProductInfo {
  id: number;
  name: string;
  /** The product's noun in lower case, for review and ticket texts. */
  noun: string;
  priceCents: number;
  /** -1 (people dislike it) .. 1 (people love it): shifts its review ratings. */
  quality: number;
}

export interface Catalogue {
  products: ProductInfo[];
  /** A product, popular ones more often. */
  pick(rng: Random): ProductInfo;
}

export interface Agent {
  id: number;
  firstName: string;
  teamId: number;
}

/** How an agent signs: the first word of their name. */
export function firstNameOf(name: string): string {
  return name.split(' ')[0];
}

export interface Staff {
  teamNames: Map<number, string>;
  agentsByTeam: Map<number, Agent[]>;
}

/** The next id of every table the customer chunks fill; ids are handed out in generation order. */
export interface IdCounters {
  order: number;
  orderItem: number;
  ticket: number;
  ticketMessage: number;
  review: number;
  loyaltyAccount: number;
  loyaltyEntry: number;
}

/** Everything a generator may read. Generators write rows into batches and only advance `ids`. */
export interface SeedContext {
  seed: number;
  /** The reference moment (epoch seconds): nothing happens after it. */
  now: number;
  /** Orders start here, 18 months before `now`. */
  windowStart: number;
  customerCount: number;
  calendar: SalesCalendar;
  catalogue: Catalogue;
  staff: Staff;
  /** Chance that a recent order, or a customer, has a ticket in the open backlog (tuned to ~90 open tickets). */
  backlogOrderChance: number;
  backlogOtherChance: number;
  vipRule: VipRule;
  sla: SlaPolicies;
  /** Loyalty tiers by lifetime points, as the database's loyalty_tier_for() gives them. */
  tiers: TierThresholds;
  ids: IdCounters;
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
