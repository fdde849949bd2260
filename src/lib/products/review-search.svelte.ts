import { api, messageOf, queryOf, unwrap } from '$lib/api.js';
import { authed } from '$lib/session.svelte.js';
import type { RatingSummary, Review } from '$shared/schemas/inventory.js';

export type ReviewSort = 'relevance' | 'newest' | 'lowest';

/** Reviews of one product (or all), searched and sorted, a page at a time. */
export class ReviewSearch {
  q = $state('');
  sort = $state<ReviewSort>('newest');
  reviews = $state<Review[]>([]);
  rating = $state<RatingSummary | null>(null);
  next = $state<string | null>(null);
  loading = $state(false);
  error = $state<string | null>(null);

  #abort: AbortController | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(readonly productId?: number) {}

  /** The search box changed: wait for a pause in typing, then search (relevance first). */
  typed(q: string) {
    this.q = q;
    if (q.trim() && this.sort === 'newest') this.sort = 'relevance';
    if (!q.trim() && this.sort === 'relevance') this.sort = 'newest';
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.load(), 250);
  }

  async load(more = false) {
    this.#abort?.abort();
    const abort = (this.#abort = new AbortController());
    this.loading = true;
    try {
      const page = await authed(
        unwrap(
          api.api.reviews.$get(
            {
              query: queryOf({
                q: this.q.trim(),
                productId: this.productId,
                sort: this.sort,
                cursor: more ? this.next : undefined
              })
            },
            { init: { signal: abort.signal } }
          )
        )
      );
      if (abort.signal.aborted) return;
      this.reviews = more ? [...this.reviews, ...page.reviews] : page.reviews;
      this.next = page.nextCursor;
      if (page.rating) this.rating = page.rating;
      this.error = null;
    } catch (err) {
      if (!abort.signal.aborted) this.error = messageOf(err, 'Reviews could not be loaded.');
    } finally {
      if (!abort.signal.aborted) this.loading = false;
    }
  }

  stop() {
    this.#abort?.abort();
    if (this.#timer) clearTimeout(this.#timer);
  }
}
