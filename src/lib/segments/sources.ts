import { attributeDefinitions, categories } from '$lib/bulk/pickers.js';
import { TIER_LOOK } from '$lib/components/status.js';
import { listApi } from '$lib/table/list-api.js';
import type { ValueOption, ValueSource } from '$lib/table/value-source.js';
import type { AttributeDefinition } from '$shared/schemas/customer360.js';
import type { ProductRow } from '$shared/lists/products.js';
import { LOYALTY_TIERS } from '$shared/enums.js';
import { RFM_LABELS, RFM_SEGMENTS } from '$shared/schemas/analytics.js';

// Where the rule builder's pickers find their values: products and categories by id with their
// names (the products table's search, /api/categories), fixed lists (tiers, RFM segments) in
// words, and the custom attributes a customer can have. Nobody types an id.

const productOption = (p: ProductRow): ValueOption => ({
  value: String(p.id),
  label: p.sku ? `${p.name} · ${p.sku}` : p.name
});

/** Products whose name or SKU holds the text, by name; a search past the first page narrows. */
export const productSource: ValueSource = Object.assign(
  async (q: string, signal: AbortSignal) => {
    const page = await listApi.page('products', { q: q || undefined, limit: 100 }, signal);
    return { values: page.rows.map(productOption), truncated: page.nextCursor !== null };
  },
  {
    /** Chosen products by id, in one request (a rule holds at most MAX_FILTER_VALUES of them). */
    named: async (values: string[], signal: AbortSignal) => {
      const ids = values.map(Number).filter((id) => Number.isInteger(id) && id > 0);
      if (ids.length === 0) return [];
      const page = await listApi.page('products', { ids, limit: ids.length }, signal);
      return page.rows.map(productOption);
    }
  }
);

let categoryList: Promise<ValueOption[]> | null = null;
/** Every category (there are few), with how many products each holds. */
export const categorySource: ValueSource = async () => {
  categoryList ??= categories()
    .then((all) => all.map((c) => ({ value: String(c.id), label: c.name, count: c.products })))
    .catch((err: unknown) => {
      categoryList = null;
      throw err;
    });
  return { values: await categoryList, truncated: false };
};

const fixed =
  (options: ValueOption[]): ValueSource =>
  async () => ({ values: options, truncated: false });

export const tierSource = fixed(LOYALTY_TIERS.map((t) => ({ value: t, label: TIER_LOOK[t].label })));

export const rfmSource = fixed(RFM_SEGMENTS.map((r) => ({ value: r, label: RFM_LABELS[r] })));

let attributeList: Promise<AttributeDefinition[]> | null = null;
/** The custom attributes defined for customers, read once a page. */
export function customerAttributes(): Promise<AttributeDefinition[]> {
  attributeList ??= attributeDefinitions('customers').catch((err: unknown) => {
    attributeList = null;
    throw err;
  });
  return attributeList;
}
