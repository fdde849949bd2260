import { api, ApiError, horizonOf, messageOf, unwrap } from '$lib/api.js';
import { watchCustomer } from '$lib/console/watch.js';
import { liveClient } from '$lib/live/live-client.js';
import { authed } from '$lib/session.svelte.js';
import type { OrderDetail } from '$shared/schemas/inventory.js';

export type OrderAction = 'refund' | 'cancel';

/**
 * The order page's state: the REST snapshot of one order, reloaded when the live stream says
 * the order (or what hangs from it: its customer's points, its tickets) changed. The customer's
 * room carries those changes; the page watches it from the snapshot's stream position.
 */
export class OrderPage {
  detail = $state<OrderDetail | null>(null);
  error = $state<{ status: number; message: string } | null>(null);
  loading = $state(true);
  busy = $state<OrderAction | null>(null);
  actionError = $state<string | null>(null);
  /** Bumped on every live change, so the page can flash what moved. */
  changed = $state(0);

  #abort: AbortController | null = null;
  #release: (() => void) | null = null;
  #watching: number | null = null;
  #offs: (() => void)[] = [];
  #reloadTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(readonly orderId: number) {}

  /** Loads and starts listening; returns the teardown (for an $effect). */
  start(): () => void {
    const onChange = (customerId: number, orderId?: number | null) => {
      if (!this.detail) return;
      if (orderId === this.orderId || customerId === this.detail.customer.id) this.#soon();
    };
    this.#offs = [
      liveClient.on('order:updated', (e) => {
        if (e.data.id !== this.orderId || (this.detail && e.data.version <= this.detail.order.version))
          return;
        this.#soon();
      }),
      liveClient.on('loyalty:changed', (e) => onChange(e.customerId, e.entry?.orderId)),
      liveClient.on('ticket:updated', (e) => onChange(-1, e.data.orderId)),
      liveClient.on('ticket:created', (e) => onChange(-1, e.data.orderId)),
      liveClient.onResync(() => this.load())
    ];
    void this.load();
    return () => {
      this.#abort?.abort();
      for (const off of this.#offs) off();
      this.#release?.();
      if (this.#reloadTimer) clearTimeout(this.#reloadTimer);
    };
  }

  /** Several changes of one commit (status, points, stock) arrive together: one reload for all. */
  #soon() {
    if (this.#reloadTimer) return;
    this.#reloadTimer = setTimeout(() => {
      this.#reloadTimer = null;
      this.changed++;
      void this.load();
    }, 60);
  }

  async load() {
    this.#abort?.abort();
    const abort = (this.#abort = new AbortController());
    try {
      const detail = await authed(
        unwrap(
          api.api.orders[':id'].$get(
            { param: { id: String(this.orderId) } },
            { init: { signal: abort.signal } }
          )
        )
      );
      if (abort.signal.aborted) return;
      this.detail = detail as OrderDetail;
      this.error = null;
      if (this.#watching !== detail.customer.id) {
        this.#release?.();
        this.#watching = detail.customer.id;
        this.#release = watchCustomer(detail.customer.id, horizonOf(detail));
      }
    } catch (err) {
      if (abort.signal.aborted) return;
      this.error = {
        status: err instanceof ApiError ? err.status : 0,
        message: messageOf(err, 'The order could not be loaded.')
      };
    } finally {
      if (!abort.signal.aborted) this.loading = false;
    }
  }

  /** Refunds or cancels through the existing action (agents through a ticket of the customer). */
  async act(action: OrderAction, ticketId?: number): Promise<boolean> {
    this.busy = action;
    this.actionError = null;
    try {
      const param = { id: String(this.orderId) };
      const json = ticketId ? { ticketId } : {};
      await authed(
        unwrap(
          action === 'refund'
            ? api.api.orders[':id'].refund.$post({ param, json })
            : api.api.orders[':id'].cancel.$post({ param, json })
        )
      );
      await this.load();
      return true;
    } catch (err) {
      this.actionError = messageOf(
        err,
        `The order could not be ${action === 'refund' ? 'refunded' : 'cancelled'}.`
      );
      return false;
    } finally {
      this.busy = null;
    }
  }
}
