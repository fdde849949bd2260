import { createSubscriber } from 'svelte/reactivity';

/**
 * The current time, as a reactive value that ticks once a second while something on screen reads
 * it (SLA countdowns, "2 min ago"), and not at all otherwise. One timer for the whole page.
 */
class Clock {
  #subscribe = createSubscriber((update) => {
    const timer = setInterval(update, 1000);
    return () => clearInterval(timer);
  });

  get now(): number {
    this.#subscribe();
    return Date.now();
  }
}

export const clock = new Clock();
