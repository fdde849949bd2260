import { messageOf } from '$lib/api.js';

/**
 * One report on screen: its data, whether it is loading, and what went wrong. Loading again
 * cancels the request still under way, so a quick change of range never shows an older answer.
 */
export class Resource<T> {
  data = $state.raw<T | null>(null);
  error = $state<string | null>(null);
  loading = $state(false);
  #controller: AbortController | null = null;
  #last: ((signal: AbortSignal) => Promise<T>) | null = null;

  async load(fetch: (signal: AbortSignal) => Promise<T>) {
    this.#controller?.abort();
    const controller = new AbortController();
    this.#controller = controller;
    this.#last = fetch;
    this.loading = true;
    this.error = null;
    try {
      const data = await fetch(controller.signal);
      if (controller.signal.aborted) return;
      this.data = data;
    } catch (err) {
      if (controller.signal.aborted || (err instanceof DOMException && err.name === 'AbortError')) return;
      this.error = messageOf(err, 'This report could not be loaded');
    } finally {
      if (this.#controller === controller) this.loading = false;
    }
  }

  retry() {
    if (this.#last) void this.load(this.#last);
  }

  cancel() {
    this.#controller?.abort();
  }
}
