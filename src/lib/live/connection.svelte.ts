import type { ConnectionState } from '$shared/events.js';

export type { ConnectionState };

/**
 * The state of the live link, as the UI shows it. The socket client writes it
 * (`live.set('reconnecting')`); screens and the ConnectionIndicator read it.
 */
class LiveConnection {
  state = $state<ConnectionState>('connecting');
  /** When the state last changed (ms since epoch), e.g. "offline for 2 min". */
  since = $state(Date.now());

  set(next: ConnectionState) {
    if (next === this.state) return;
    this.state = next;
    this.since = Date.now();
  }
}

export const live = new LiveConnection();
