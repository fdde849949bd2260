import { api, unwrap } from '$lib/api.js';
import type { MergeChoices } from '$shared/schemas/merge.js';

// The merge and duplicates API, as the screens call it.

const param = (id: number) => ({ param: { id: String(id) } });

export const duplicatesOf = (customerId: number) =>
  unwrap(api.api.customers[':id'].duplicates.$get(param(customerId)));

export const duplicatePairs = (cursor: string | null, limit = 25) =>
  unwrap(api.api.duplicates.$get({ query: { limit: String(limit), ...(cursor ? { cursor } : {}) } }));

export const dismissPair = (a: number, b: number) =>
  unwrap(api.api.duplicates.dismiss.$post({ json: { customerIds: [a, b] } }));

export const mergePreview = (survivorId: number, mergedId: number) =>
  unwrap(
    api.api.customers[':id']['merge-preview'].$get({
      ...param(survivorId),
      query: { with: String(mergedId) }
    })
  );

export const mergeCustomers = (
  survivorId: number,
  body: { mergedId: number; choices: MergeChoices; expectedVersions: { survivor: number; merged: number } }
) => unwrap(api.api.customers[':id'].merge.$post({ ...param(survivorId), json: body }));

export const resolveCustomer = (id: number) => unwrap(api.api.customers[':id'].resolve.$get(param(id)));
