import type { WallboardSnapshot } from '$shared/schemas/metrics.js';

export type FeedStatus = 'loading' | 'ready' | 'error' | 'revoked' | 'forbidden';

/**
 * The wallboard's numbers on screen. Snapshots arrive whole (the GET, the watch's ack, each
 * `wallboard:updated` frame) and the newest wins, whichever way it came.
 */
export class WallboardFeed {
  snapshot = $state.raw<WallboardSnapshot | null>(null);
  status = $state<FeedStatus>('loading');
  message = $state<string | null>(null);

  accept = (next: WallboardSnapshot) => {
    // ISO timestamps of one clock compare as strings.
    if (this.snapshot && next.generatedAt < this.snapshot.generatedAt) return;
    this.snapshot = next;
    this.status = 'ready';
    this.message = null;
  };

  /** A failure; with numbers already on screen they stay (the connection indicator says they may be stale). */
  fail(status: Exclude<FeedStatus, 'loading' | 'ready'>, message: string) {
    if (status === 'error' && this.snapshot) return;
    this.status = status;
    this.message = message;
  }
}
