import { liveClient } from '$lib/live/live-client.js';

/**
 * A customer's room while the returned release is not called. Watches are counted: two screens
 * (or a screen being replaced by the next) may watch the same customer; the room is left only
 * when the last one lets go, and joined again after every reconnect. `since` is the stream position
 * of the REST state the screen shows: what the customer's room received after it is sent too.
 */
export function watchCustomer(customerId: number, since?: string): () => void {
  return liveClient.watch('customer:watch', [customerId], undefined, since);
}
