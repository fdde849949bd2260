import type { Logger } from 'pino';
import type { WallboardSnapshot } from '#shared/schemas/metrics.js';
import { rooms } from '#shared/rooms.js';
import type { PulseServer } from './types.js';
import { guarded } from './safe-handler.js';
import type { WallboardMetrics } from '../services/wallboard/metrics.js';

export interface PublisherOptions {
  /** At most one frame per this many milliseconds (250: four frames a second). */
  minIntervalMs?: number;
  logger: Logger;
}

/** Time moves the numbers too (the minute chart, SLA clocks): look this often, send when changed. */
const HEARTBEAT_MS = 5_000;

/**
 * Sends `wallboard:updated` to this process's sockets in the `wallboard` room, coalesced: a change
 * asks for a frame, and a frame goes out at most every `minIntervalMs` carrying the numbers as they
 * are when it is sent (latest wins). A burst of thousands of changes is a handful of frames.
 * Database-originated, so `io.local`: every process computes its own.
 */
export class WallboardPublisher {
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout;
  private lastSentAt = 0;
  private lastContent = '';
  private readonly minIntervalMs: number;
  /** Sends a frame from a timer: a snapshot that cannot be computed is logged, and the next frame tries again. */
  private readonly sendFromTimer: () => void;

  constructor(
    private readonly io: PulseServer,
    private readonly metrics: WallboardMetrics,
    opts: PublisherOptions
  ) {
    this.minIntervalMs = opts.minIntervalMs ?? 250;
    this.sendFromTimer = guarded(
      opts.logger,
      () => ({ timer: 'wallboard frame' }),
      () => this.send()
    );
    this.heartbeat = setInterval(
      guarded(
        opts.logger,
        () => ({ timer: 'wallboard heartbeat' }),
        () => this.request()
      ),
      HEARTBEAT_MS
    );
    this.heartbeat.unref();
  }

  private get watchers(): number {
    return this.io.of('/').adapter.rooms.get(rooms.wallboard)?.size ?? 0;
  }

  /** Asks for a frame; many requests before it goes out are one frame. */
  request(): void {
    if (this.timer || this.watchers === 0) return;
    const wait = Math.max(0, this.lastSentAt + this.minIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sendFromTimer();
    }, wait);
  }

  private send() {
    const snapshot = this.metrics.snapshot();
    if (!snapshot || this.watchers === 0) return;
    const content = contentOf(snapshot);
    if (content === this.lastContent) return;
    this.lastContent = content;
    this.lastSentAt = Date.now();
    this.io.local.to(rooms.wallboard).emit('wallboard:updated', snapshot);
  }

  close() {
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
  }
}

/** What a frame says, leaving out when it was computed. */
function contentOf(snapshot: WallboardSnapshot): string {
  const { generatedAt: _, support, ...rest } = snapshot;
  // The backlog's last point is "now": it moves with the clock, not with the numbers.
  return JSON.stringify({
    ...rest,
    support: { ...support, backlog: support.backlog.map((p, i, all) => (i === all.length - 1 ? p.open : p)) }
  });
}
