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

  /** Who was already viewing when the screen opened (retries while the socket connects). */
  async #seed(attempt = 0): Promise<void> {
    const result = await liveClient.ask('presence:list');
    if ('data' in result) {
      for (const { ticketId, viewers } of result.data.tickets)
        if (!this.#viewers.has(ticketId)) this.set(ticketId, viewers);
    } else if (attempt < 10 && this.#subscribers > 0) {
      setTimeout(() => void this.#seed(attempt + 1), 1000);
    }
  }

  /** Listens to presence events while at least one screen needs them; returns the release. */
  listen(): () => void {
    if (this.#subscribers++ === 0) {
      this.#off = liveClient.on('presence:changed', ({ ticketId, viewers }) => this.set(ticketId, viewers));
      void this.#seed();
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
