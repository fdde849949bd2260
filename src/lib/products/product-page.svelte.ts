import { api, ApiError, horizonOf, messageOf, unwrap } from '$lib/api.js';
import { isNewer, liveClient } from '$lib/live/live-client.js';
import { authed } from '$lib/session.svelte.js';
import type { ProductDetail, StockMovement, StockMovementBody } from '$shared/schemas/inventory.js';

/**
 * The product page's state: the REST snapshot, then the product's room. A stock movement is
 * added to the table as it commits, and the product (stock, state, threshold) is applied by
 * version, so a replayed or late event never takes the page back.
 */
export class ProductPage {
  detail = $state<ProductDetail | null>(null);
  error = $state<{ status: number; message: string } | null>(null);
  loading = $state(true);
  loadingMore = $state(false);
  /** Ids of movements that arrived live, for a glow. */
  fresh = $state<Set<number>>(new Set());

  #abort: AbortController | null = null;
  #release: (() => void) | null = null;
  #offs: (() => void)[] = [];

  constructor(readonly productId: number) {}

  start(): () => void {
    this.#offs = [
      liveClient.on('stock:moved', (e) => {
        if (e.data.productId === this.productId) this.#addMovement(e.data);
      }),
      liveClient.on('product:updated', (e) => {
        const d = this.detail;
        if (!d || e.data.id !== this.productId || !isNewer(d.product, e.data)) return;
        d.product = { ...d.product, ...e.data };
      }),
      liveClient.onResync(() => this.load())
    ];
    void this.load();
    return () => {
      this.#abort?.abort();
      for (const off of this.#offs) off();
      this.#release?.();
    };
  }

  #addMovement(m: StockMovement) {
    const d = this.detail;
    if (!d || d.movements.some((x) => x.id === m.id)) return;
    // Newest first: a movement older than the first row shown came from a replay of the past.
    const at = d.movements.findIndex((x) => x.id < m.id);
    if (at === -1 && d.nextMovementsCursor) return;
    d.movements.splice(at === -1 ? d.movements.length : at, 0, m);
    this.fresh = new Set([...this.fresh, m.id]);
  }

  async load() {
    this.#abort?.abort();
    const abort = (this.#abort = new AbortController());
    try {
      const detail = (await authed(
        unwrap(
          api.api.products[':id'].$get(
            { param: { id: String(this.productId) } },
            { init: { signal: abort.signal } }
          )
        )
      )) as ProductDetail;
      if (abort.signal.aborted) return;
      // A live change applied meanwhile wins over an older snapshot of the product.
      if (this.detail && !isNewer(this.detail.product, detail.product)) detail.product = this.detail.product;
      this.detail = detail;
      this.error = null;
      if (!this.#release)
        this.#release = liveClient.watch('product:watch', [this.productId], undefined, horizonOf(detail));
    } catch (err) {
      if (abort.signal.aborted) return;
      this.error = {
        status: err instanceof ApiError ? err.status : 0,
        message: messageOf(err, 'The product could not be loaded.')
      };
    } finally {
      if (!abort.signal.aborted) this.loading = false;
    }
  }

  async loadMore() {
    const d = this.detail;
    if (!d?.nextMovementsCursor || this.loadingMore) return;
    this.loadingMore = true;
    try {
      const page = await authed(
        unwrap(
          api.api.products[':id']['stock-movements'].$get({
            param: { id: String(this.productId) },
            query: { cursor: d.nextMovementsCursor }
          })
        )
      );
      const known = new Set(d.movements.map((m) => m.id));
      d.movements.push(...(page.movements as StockMovement[]).filter((m) => !known.has(m.id)));
      d.nextMovementsCursor = page.nextCursor;
    } finally {
      this.loadingMore = false;
    }
  }

  /** A receipt or an adjustment (managers); the live path adds it to the table. */
  async move(body: StockMovementBody) {
    const res = await authed(
      unwrap(
        api.api.products[':id']['stock-movements'].$post({
          param: { id: String(this.productId) },
          json: body
        })
      )
    );
    this.#addMovement(res.movement as StockMovement);
    if (this.detail && isNewer(this.detail.product, res.product))
      this.detail.product = { ...this.detail.product, ...res.product };
  }

  async setThreshold(lowStockThreshold: number) {
    const d = this.detail;
    if (!d) return;
    const { product } = await authed(
      unwrap(
        api.api.products[':id'].$patch({
          param: { id: String(this.productId) },
          json: { version: d.product.version, lowStockThreshold }
        })
      )
    );
    if (isNewer(d.product, product)) d.product = { ...d.product, ...product };
  }
}
