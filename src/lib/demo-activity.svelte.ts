import { api, messageOf, unwrap } from '$lib/api.js';
import { authed } from '$lib/session.svelte.js';
import type { DemoActivityStatus } from '$shared/schemas/demo.js';

/**
 * The embedded demo's simulated activity, as the app shell shows it: its state from
 * `GET /api/demo-activity` (asked again whenever the tab comes back into view), and
 * pausing or resuming it for managers and admins.
 */
export class DemoActivity {
  /** Null until the server answered; the shell shows nothing unless it says `available`. */
  status = $state<DemoActivityStatus | null>(null);
  /** A pause or resume in flight. */
  busy = $state(false);
  /** Why the last pause or resume failed, until the next one. */
  error = $state<string | null>(null);

  async load(): Promise<void> {
    try {
      this.status = await authed(unwrap(api.api['demo-activity'].$get()));
    } catch {
      // Not worth a message: the control stays as it was (or hidden) until the next load.
    }
  }

  async setRunning(running: boolean): Promise<void> {
    this.busy = true;
    this.error = null;
    try {
      this.status = await authed(unwrap(api.api['demo-activity'].$put({ json: { running } })));
    } catch (err) {
      this.error = messageOf(
        err,
        running ? 'Demo activity did not resume. Try again.' : 'Demo activity did not pause. Try again.'
      );
    } finally {
      this.busy = false;
    }
  }
}
