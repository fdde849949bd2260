import { liveClient } from '$lib/live/live-client.js';
import type { CustomerMerge } from '$shared/schemas/merge.js';
import { resolveCustomer } from './merge-api.js';

/**
 * Whether the customer on screen was merged away, and into whom: known from the server on load
 * (`/resolve`) and from `customer:merged` as it happens. `onAbsorbed` is called when another
 * customer is merged into this one (the screen reloads what it shows). Call `stop()` on teardown.
 */
export class MergeWatch {
  mergedInto = $state<number | null>(null);
  merge = $state<CustomerMerge | null>(null);
  private stopLive: () => void;

  constructor(
    private readonly customerId: number,
    onAbsorbed?: (merge: CustomerMerge) => void
  ) {
    this.stopLive = liveClient.on('customer:merged', (e) => {
      if (e.mergedId === this.customerId) {
        this.merge = e.merge;
        this.mergedInto = e.survivorId;
      } else if (e.survivorId === this.customerId) {
        onAbsorbed?.(e.merge);
      }
    });
    void resolveCustomer(customerId)
      .then((r) => {
        if (r.mergedInto !== null && this.mergedInto === null) this.mergedInto = r.mergedInto;
      })
      .catch(() => undefined);
  }

  stop() {
    this.stopLive();
  }
}
