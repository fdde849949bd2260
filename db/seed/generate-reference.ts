import { firstNameOf } from './context.js';
import { DEMO_TEAMS, DEMO_USERS } from './demo-users.js';
import { Random, Weighted } from './random.js';
import { DAY, HOUR } from './sales-calendar.js';
import { createReferenceBatches, type ReferenceBatches } from './tables.js';
import type { Agent, Catalogue, ProductInfo, Staff } from './types.js';
import { CANNED_RESPONSES } from './vocabulary/canned.js';
import { CATEGORIES, COLOURS, PRODUCT_ADJECTIVES, PRODUCT_BENEFITS } from './vocabulary/catalogue.js';

export interface Reference {
  batches: ReferenceBatches;
  catalogue: Catalogue;
  staff: Staff;
}

/** Teams, demo users and the catalogue: the rows every customer chunk refers to. */
export function generateReference(opts: {
  seed: number;
  windowStart: number;
  now: number;
  productCount: number;
  passwordHash: string;
}): Reference {
  const rng = new Random(opts.seed, 0);
  const batches = createReferenceBatches();
  const staff = addStaff(batches, opts.windowStart - 60 * DAY, opts.passwordHash);
  const products = addCatalogue(rng, batches, opts);
  return { batches, staff, catalogue: catalogueOf(rng, products) };
}

function addStaff(batches: ReferenceBatches, since: number, passwordHash: string): Staff {
  const teamNames = new Map<number, string>();
  const agentsByTeam = new Map<number, Agent[]>();
  DEMO_TEAMS.forEach((name, i) => {
    const id = i + 1;
    teamNames.set(id, name);
    agentsByTeam.set(id, []);
    batches.teams.add({ id, name, created_at: since });
  });
  DEMO_USERS.forEach((user, i) => {
    const id = i + 1;
    const createdAt = since + i * 6 * HOUR;
    batches.users.add({
      id,
      email: user.email,
      name: user.name,
      password_hash: passwordHash,
      role: user.role,
      team_id: user.team,
      active: true,
      created_at: createdAt,
      updated_at: createdAt
    });
    if (user.role === 'agent' && user.team !== null) {
      agentsByTeam.get(user.team)!.push({ id, firstName: firstNameOf(user.name), teamId: user.team });
    }
  });
  // The managers wrote the store's canned responses.
  const author = DEMO_USERS.findIndex((user) => user.role === 'manager') + 1;
  CANNED_RESPONSES.forEach((canned, i) =>
    batches.cannedResponses.add({
      id: i + 1,
      title: canned.title,
      body: canned.body,
      team_id: canned.team,
      created_by: author
    })
  );
  return { teamNames, agentsByTeam };
}

function addCatalogue(
  rng: Random,
  batches: ReferenceBatches,
  opts: { windowStart: number; now: number; productCount: number }
): ProductInfo[] {
  CATEGORIES.forEach((category, i) =>
    batches.categories.add({ id: i + 1, name: category.name, parent_id: null })
  );
  const share = new Weighted(CATEGORIES.map((category, i) => [i, category.popularity] as const));
  const usedNames = new Set<string>();
  const products: ProductInfo[] = [];
  const skuCounters = CATEGORIES.map(() => 0);

  for (let id = 1; id <= opts.productCount; id++) {
    // Every category gets products first, then they follow category popularity.
    const categoryIndex = id <= CATEGORIES.length ? id - 1 : share.sample(rng);
    const category = CATEGORIES[categoryIndex];
    const noun = rng.pick(category.nouns);
    const adjective = rng.pick(PRODUCT_ADJECTIVES);
    const colour = rng.pick(COLOURS);
    let name = `${adjective} ${noun}`;
    if (usedNames.has(name)) name = `${adjective} ${noun} - ${colour}`;
    for (let edition = 2; usedNames.has(name); edition++)
      name = `${adjective} ${noun} - ${colour} ${edition}`;
    usedNames.add(name);

    const [low, high] = category.priceCents;
    // Prices cluster at the cheap end and end in .99 or .49.
    const raw = low + (high - low) * rng.next() ** 2;
    const priceCents = Math.max(99, Math.round(raw / 100) * 100 - (rng.chance(0.7) ? 1 : 51));
    const material = rng.pick(category.materials);
    const createdAt = opts.windowStart - rng.int(30, 900) * DAY + rng.int(8 * HOUR, 18 * HOUR);
    const updatedAt = rng.chance(0.6) ? rng.int(createdAt, opts.now - HOUR) : createdAt;
    skuCounters[categoryIndex]++;

    batches.products.add({
      id,
      sku: `${category.code}-${String(skuCounters[categoryIndex]).padStart(5, '0')}`,
      name,
      description: `${adjective} ${noun.toLowerCase()} in ${colour.toLowerCase()}, made from ${material}. ${rng.pick(PRODUCT_BENEFITS)}`,
      category_id: categoryIndex + 1,
      price: priceCents,
      stock: rng.chance(0.05) ? 0 : rng.int(3, 600),
      attributes: JSON.stringify({ colour: colour.toLowerCase(), material, weight_g: rng.int(20, 40) * 25 }),
      active: rng.chance(0.95),
      created_at: createdAt,
      updated_at: updatedAt
    });
    products.push({ id, name, noun: noun.toLowerCase(), priceCents, quality: rng.between(-1, 1) });
  }
  return products;
}

/** Popularity follows a Zipf-like curve over a shuffled ranking, so a few products are best sellers. */
function catalogueOf(rng: Random, products: ProductInfo[]): Catalogue {
  const ranked = [...products];
  for (let i = ranked.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [ranked[i], ranked[j]] = [ranked[j], ranked[i]];
  }
  const popularity = new Weighted(ranked.map((product, rank) => [product, 1 / (rank + 5)] as const));
  return { products, pick: (r) => popularity.sample(r) };
}
