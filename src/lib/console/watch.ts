import { liveClient } from '$lib/live/live-client.js';

/**
 * Reference-counted customer rooms: two screens (or a screen being replaced by the next) may watch
 * the same customer; the room is left only when the last one lets go.
 */
const customerWatchers = new Map<number, number>();

export function watchCustomer(customerId: number): () => void {
  const count = customerWatchers.get(customerId) ?? 0;
  customerWatchers.set(customerId, count + 1);
  if (count === 0) void liveClient.request('customer:watch', customerId);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (customerWatchers.get(customerId) ?? 1) - 1;
    if (left > 0) customerWatchers.set(customerId, left);
    else {
      customerWatchers.delete(customerId);
      liveClient.emit('customer:unwatch', customerId);
    }
  };
}

/** Joins a watched customer's room again (after a reconnect the server starts from nothing). */
export function rewatchCustomer(customerId: number) {
  if (customerWatchers.has(customerId)) void liveClient.request('customer:watch', customerId);
}
