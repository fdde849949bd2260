import { api, unwrap } from '$lib/api.js';
import { authed as call } from '$lib/session.svelte.js';
import type { Category } from '$shared/schemas/categories.js';
import type { AttributeDefinition } from '$shared/schemas/customer360.js';
import type { BulkEntity } from '$shared/schemas/bulk.js';

// What the bulk dialog's pickers offer: the entity's custom attribute definitions and the
// product categories (and a new category made from the picker).

const ATTRIBUTE_ENTITY = { customers: 'customer', orders: 'order', products: 'product' } as const;

export const attributeDefinitions = async (entity: BulkEntity): Promise<AttributeDefinition[]> =>
  (await call(unwrap(api.api['custom-attributes'].$get({ query: { entity: ATTRIBUTE_ENTITY[entity] } }))))
    .attributes;

export const categories = async (): Promise<Category[]> =>
  (await call(unwrap(api.api.categories.$get()))).categories;

export const createCategory = async (name: string): Promise<Category> =>
  (await call(unwrap(api.api.categories.$post({ json: { name } })))).category;
