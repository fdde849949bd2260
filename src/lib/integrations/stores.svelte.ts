import { liveClient } from '$lib/live/live-client.js';
import type { Store, StoreDelivery } from '$shared/schemas/storefront.js';
import { storesApi } from './stores-api.js';

/** How many deliveries each store's list keeps on screen. */
const SHOWN = 25;

/**
 * The stores screen's state: the stores and each one's recent deliveries (REST), then every
 * delivery change as it commits (`store:delivery_changed`): a new delivery appears at the top, a
 * processed or failed one changes in place, and the store's counters follow.
 */
export class StoresScreen {
  stores = $state<Store[] | null>(null);
  deliveries = $state<Record<number, StoreDelivery[]>>({});
  error = $state<string | null>(null);
  /** Deliveries that arrived live, for a glow. */
  fresh = $state<Set<number>>(new Set());

  #offs: (() => void)[] = [];

  start(): () => void {
    this.#offs = [
      liveClient.on('store:delivery_changed', (e) => this.#apply(e.data)),
      liveClient.onResync(() => void this.load())
    ];
    void this.load();
    return () => {
      for (const off of this.#offs) off();
    };
  }

  async load() {
    this.error = null;
    try {
      const { stores } = await storesApi.list();
      const lists = await Promise.all(stores.map((s) => storesApi.deliveries(s.id)));
      this.deliveries = Object.fromEntries(stores.map((s, i) => [s.id, lists[i].deliveries.slice(0, SHOWN)]));
      this.stores = stores;
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    }
  }

  #apply(d: StoreDelivery) {
    const store = this.stores?.find((s) => s.id === d.storeId);
    if (!store) return void this.load(); // a store this screen has not loaded yet
    const list = this.deliveries[d.storeId] ?? [];
    const at = list.findIndex((x) => x.id === d.id);
    const before = at >= 0 ? list[at] : null;
    // Changes of one delivery only move forward: attempts grow, and a settled one stays settled.
    if (before && before.attempts > d.attempts) return;
    this.deliveries[d.storeId] =
      at >= 0 ? list.map((x) => (x.id === d.id ? d : x)) : [d, ...list].slice(0, SHOWN);
    const pendingDelta = (d.state === 'pending' ? 1 : 0) - (before?.state === 'pending' ? 1 : 0);
    const failedDelta = (d.state === 'failed' ? 1 : 0) - (before?.state === 'failed' ? 1 : 0);
    store.deliveries = {
      total: store.deliveries.total + (before ? 0 : 1),
      pending: Math.max(0, store.deliveries.pending + pendingDelta),
      failed: Math.max(0, store.deliveries.failed + failedDelta),
      lastReceivedAt: before ? store.deliveries.lastReceivedAt : d.receivedAt
    };
    if (!before) this.fresh = new Set([...this.fresh, d.id]);
  }
}
