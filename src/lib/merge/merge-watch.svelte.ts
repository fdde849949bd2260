import { liveClient } from '$lib/live/live-client.js';
import type { CustomerMerge } from '$shared/schemas/merge.js';

/**
 * Merges of the customer on screen as they happen (`customer:merged`): `onMergedAway` when this
 * customer was merged into another (the page moves to the survivor), `onAbsorbed` when another
 * was merged into this one (the page reloads what it shows). Returns the stop function.
 */
export function watchMerges(
  customerId: number,
  on: { onMergedAway: (merge: CustomerMerge) => void; onAbsorbed?: (merge: CustomerMerge) => void }
): () => void {
  return liveClient.on('customer:merged', (e) => {
    if (e.mergedId === customerId) on.onMergedAway(e.merge);
    else if (e.survivorId === customerId) on.onAbsorbed?.(e.merge);
  });
}

/** The customer page's URL for the survivor of a merge, saying which id led there. */
export const survivorHref = (survivorId: number, mergedFrom: number) =>
  `/customers/${survivorId}?mergedFrom=${mergedFrom}`;
