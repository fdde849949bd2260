import type { LoyaltyTier, OrderStatus, SalesChannel, TicketPriority } from '#shared/enums.js';
import type { Random } from './random.js';
import type { SalesCalendar } from './sales-calendar.js';
import type { City } from './vocabulary/people.js';

// The seed's shared types, apart from the generators that fill them: every generator imports its
// inputs from here (and its helpers from the modules that own them), so no two generator modules
// import each other, even for a type.

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
  /** Loyalty tiers by lifetime points, as the loyalty program in force gives them (readTierThresholds). */
  tiers: TierThresholds;
  ids: IdCounters;
}

export type Segment = 'casual' | 'regular' | 'loyal';

/** Who a customer is, decided before their orders; the customer row is written after them. */
export interface CustomerProfile {
  id: number;
  firstName: string;
  lastName: string;
  city: City;
  createdAt: number;
  segment: Segment;
  /** Orders per 30 days while a customer. */
  orderRate: number;
  loyaltyMember: boolean;
  favouriteChannel: SalesChannel;
}

/** What later generators (tickets, reviews, loyalty) need to know about an order. */
export interface OrderFacts {
  id: number;
  externalId: string;
  orderedAt: number;
  status: OrderStatus;
  totalCents: number;
  products: ProductInfo[];
  /** Moments that have happened by `now`; null otherwise. */
  shippedAt: number | null;
  deliveredAt: number | null;
  refundedAt: number | null;
  cancelledAt: number | null;
}

/**
 * Who is a VIP, as the database's ticket trigger (`ticket_flag_vip`, settings in `support_settings`)
 * decides it: a loyalty tier in `tiers`, or a lifetime value (orders neither cancelled nor refunded)
 * of at least `lifetimeValueCents`. The seed decides the same way, so that the trigger agrees with
 * the generated ticket (flag, raised priority, due times computed from that priority).
 */
export interface VipRule {
  tiers: readonly LoyaltyTier[];
  lifetimeValueCents: number;
  /** A VIP's ticket is raised to at least this priority. */
  minimumPriority: TicketPriority;
}

/** A priority's SLA, in seconds after the ticket was opened. */
export interface SlaPolicy {
  firstResponse: number;
  resolution: number;
}
export type SlaPolicies = Record<TicketPriority, SlaPolicy>;

/** The lifetime points from which each tier starts, lowest first: what the program in force decides. */
export type TierThresholds = readonly { tier: LoyaltyTier; from: number }[];
