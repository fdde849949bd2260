import type { SalesChannel } from '#shared/enums.js';
import { phoneE164 } from '../../server/services/customers/phones.js';
import { type Random, Weighted } from './random.js';
import { DAY, HOUR, MINUTE } from './sales-calendar.js';
import type { CustomerBatches } from './tables.js';
import type { CustomerProfile, OrderFacts, SeedContext, Segment } from './types.js';
import { ORDER_CHANNELS } from './vocabulary/channels.js';
import {
  ACQUISITION_SOURCES,
  CITIES,
  CUSTOMER_NOTES,
  EMAIL_DOMAINS,
  FIRST_NAMES,
  LAST_NAMES,
  STREET_NAMES,
  STREET_SUFFIXES,
  type City
} from './vocabulary/people.js';

/** Customers who signed up before the order window (and still buy). */
const SHARE_BEFORE_WINDOW = 0.5;
const YEARS_BEFORE_WINDOW = 3;

const SEGMENTS = new Weighted<Segment>([
  ['casual', 60],
  ['regular', 30],
  ['loyal', 10]
]);
const ORDER_RATE: Record<Segment, number> = { casual: 0.075, regular: 0.42, loyal: 1.7 };
const LOYALTY_MEMBERSHIP: Record<Segment, number> = { casual: 0.62, regular: 0.78, loyal: 0.92 };
const CITY_CHOICE = new Weighted(CITIES.map((city) => [city, city.weight] as const));
const LANGUAGES = new Weighted([
  ['en', 84],
  ['es', 10],
  ['fr', 2],
  ['de', 2],
  ['pt', 2]
] as const);
const SOURCES = new Weighted(ACQUISITION_SOURCES);

export function createCustomerProfile(rng: Random, ctx: SeedContext, id: number): CustomerProfile {
  const segment = SEGMENTS.sample(rng);
  return {
    id,
    firstName: rng.pick(FIRST_NAMES),
    lastName: rng.pick(LAST_NAMES),
    city: CITY_CHOICE.sample(rng),
    createdAt: signupMoment(rng, ctx, id),
    segment,
    orderRate: ORDER_RATE[segment] * rng.between(0.5, 1.5),
    loyaltyMember: rng.chance(LOYALTY_MEMBERSHIP[segment]),
    favouriteChannel: ORDER_CHANNELS.sample(rng)
  };
}

export function sampleChannel(rng: Random, profile: CustomerProfile): SalesChannel {
  return rng.chance(0.6) ? profile.favouriteChannel : ORDER_CHANNELS.sample(rng);
}

/**
 * Customer ids follow signup order: customer i signs up at the i/N quantile of the signup curve
 * (steady growth before the window, then the sales calendar), so the newest customers have the highest ids.
 */
function signupMoment(rng: Random, ctx: SeedContext, id: number): number {
  const quantile = (id - 0.5) / ctx.customerCount;
  if (quantile < SHARE_BEFORE_WINDOW) {
    const span = YEARS_BEFORE_WINDOW * 365 * DAY;
    return (
      Math.floor(ctx.windowStart - span + span * Math.sqrt(quantile / SHARE_BEFORE_WINDOW)) + rng.int(0, HOUR)
    );
  }
  const position = ((quantile - SHARE_BEFORE_WINDOW) / (1 - SHARE_BEFORE_WINDOW)) * ctx.calendar.total;
  return Math.min(ctx.calendar.moment(position), ctx.now - 2 * HOUR);
}

export function addCustomerRow(
  rng: Random,
  ctx: SeedContext,
  profile: CustomerProfile,
  orders: OrderFacts[],
  vip: boolean,
  batch: CustomerBatches['customers']
): void {
  const { city } = profile;
  const consent = rng.chance(0.55);
  const consentAt = consent
    ? Math.min(
        profile.createdAt + (rng.chance(0.7) ? rng.int(0, 5 * MINUTE) : rng.int(DAY, 90 * DAY)),
        ctx.now - MINUTE
      )
    : null;
  const addresses = [address(rng, city, 'home', profile)];
  if (rng.chance(0.15))
    addresses.push(address(rng, rng.chance(0.7) ? city : CITY_CHOICE.sample(rng), 'work', profile));

  // In this order: the generator's draws decide everything after them.
  const email = emailOf(rng, profile);
  const phone = rng.chance(0.7)
    ? `+1 (${city.areaCode}) 555-01${String(rng.int(0, 99)).padStart(2, '0')}`
    : null;
  batch.add({
    id: profile.id,
    email,
    first_name: profile.firstName,
    last_name: profile.lastName,
    phone,
    phone_e164: phoneE164(phone, 'US') ?? null,
    addresses: JSON.stringify(addresses),
    preferred_channels: preferredChannels(rng),
    language: LANGUAGES.sample(rng),
    marketing_consent: consent,
    marketing_consent_at: consentAt,
    tags: customerTags(rng, ctx, orders, vip, consent),
    notes: rng.chance(0.04) ? rng.pick(CUSTOMER_NOTES) : '',
    attributes: JSON.stringify(attributesOf(rng, profile)),
    created_at: profile.createdAt,
    updated_at: rng.chance(0.3) ? rng.int(profile.createdAt, ctx.now - MINUTE) : profile.createdAt
  });
}

function emailOf(rng: Random, profile: CustomerProfile): string {
  const first = asciiLower(profile.firstName);
  const last = asciiLower(profile.lastName);
  const domain = rng.pick(EMAIL_DOMAINS);
  // The id keeps every address unique.
  switch (rng.int(0, 3)) {
    case 0:
      return `${first}.${last}.${profile.id}@${domain}`;
    case 1:
      return `${first[0]}${last}${profile.id}@${domain}`;
    case 2:
      return `${first}_${profile.id}@${domain}`;
    default:
      return `${last}.${first}${profile.id}@${domain}`;
  }
}

function asciiLower(name: string): string {
  return name
    .normalize('NFD')
    .toLowerCase()
    .replace(/[^a-z]/g, '');
}

function address(rng: Random, city: City, label: string, profile: CustomerProfile) {
  return {
    label,
    name: `${profile.firstName} ${profile.lastName}`,
    line1: `${rng.int(1, 9899)} ${rng.pick(STREET_NAMES)} ${rng.pick(STREET_SUFFIXES)}`,
    ...(rng.chance(0.25) ? { line2: `Apt ${rng.int(1, 40)}${rng.pick(['A', 'B', 'C', 'D'])}` } : {}),
    city: city.name,
    region: city.region,
    postal_code: `${city.zipPrefix}${String(rng.int(1, 99)).padStart(2, '0')}`,
    country: 'US',
    default: label === 'home'
  };
}

function preferredChannels(rng: Random): string[] {
  const channels: string[] = [];
  if (rng.chance(0.9)) channels.push('email');
  if (rng.chance(0.3)) channels.push('sms');
  if (rng.chance(0.25)) channels.push('push');
  if (rng.chance(0.1)) channels.push('chat');
  if (rng.chance(0.05)) channels.push('phone');
  return channels.length > 0 ? channels : ['email'];
}

function customerTags(
  rng: Random,
  ctx: SeedContext,
  orders: OrderFacts[],
  vip: boolean,
  consent: boolean
): string[] {
  const tags: string[] = [];
  if (vip) tags.push('vip');
  if (consent) tags.push('newsletter');
  if (orders.filter((o) => o.status === 'refunded').length >= 2) tags.push('frequent-returner');
  const last = orders[orders.length - 1];
  if (orders.length >= 2 && last.orderedAt < ctx.now - 180 * DAY) tags.push('at-risk');
  if (orders.length === 1 && last.orderedAt > ctx.now - 30 * DAY) tags.push('new');
  if (rng.chance(0.02)) tags.push('wholesale');
  return tags;
}

function attributesOf(rng: Random, profile: CustomerProfile) {
  return {
    source: SOURCES.sample(rng),
    segment: profile.segment,
    ...(rng.chance(0.4) ? { birthday_month: rng.int(1, 12) } : {}),
    ...(rng.chance(0.2) ? { clothing_size: rng.pick(['XS', 'S', 'M', 'L', 'XL']) } : {})
  };
}
