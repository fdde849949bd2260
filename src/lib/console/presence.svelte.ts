import type { Viewer } from '$shared/events.js';
import { SvelteMap } from 'svelte/reactivity';
import { liveClient } from '$lib/live/live-client.js';

/**
 * Who is looking at which ticket, as far as this browser knows: the server tells a socket about
 * the tickets it watches. The ticket screen fills it; the queue shows it for the rows it knows.
 */
class TicketPresence {
  #viewers = new SvelteMap<number, Viewer[]>();
  #subscribers = 0;
  #off: (() => void) | null = null;

  viewersOf(ticketId: number): Viewer[] {
    return this.#viewers.get(ticketId) ?? [];
  }

  set(ticketId: number, viewers: Viewer[]) {
    this.#viewers.set(ticketId, viewers);
  }

  /** Forget a ticket we no longer watch: its list would go stale. */
  forget(ticketId: number) {
    this.#viewers.delete(ticketId);
  }

  /** Listens to presence events while at least one screen needs them; returns the release. */
  listen(): () => void {
    if (this.#subscribers++ === 0) {
      this.#off = liveClient.on('presence:changed', ({ ticketId, viewers }) => this.set(ticketId, viewers));
    }
    return () => {
      if (--this.#subscribers === 0) {
        this.#off?.();
        this.#off = null;
      }
    };
  }
}

export const presence = new TicketPresence();
