import createSubscriber, { type Subscriber } from 'pg-listen';
import type { Logger } from 'pino';
import type { ChangeReader, ReadResult } from './change-reader.js';
import type { DoorbellSilencer } from './doorbell-silencer.js';

export const DOORBELL_CHANNEL = 'crm_change';

export interface ListenerOptions {
  databaseUrl: string;
  reader: ChangeReader;
  onChanges: (result: ReadResult) => void;
  logger: Logger;
  /** Follow-up read after a doorbell, for transactions that committed just after the ringer. */
  followUpMs?: number;
  /** Safety poll: reads even when no doorbell rang (a ringer was busy, a notification was lost). */
  pollMs?: number;
  /**
   * Under a continuous stream of doorbells, wait this long between back-to-back reads so that
   * each read carries a batch instead of one row (fewer queries, same order). Idle reads are immediate.
   */
  coalesceMs?: number;
  /**
   * When given, a sustained stream of changes switches the listener to following the stream:
   * it silences the doorbell (writers then skip NOTIFY at commit) and reads every `followMs`.
   */
  silencer?: DoorbellSilencer;
  /** Gap between reads while following a stream. */
  followMs?: number;
}

/** Consecutive reads that found changes before the listener follows the stream. */
const FOLLOW_AFTER_BUSY_READS = 3;
/** Consecutive empty reads after which it lets the doorbell ring again. */
const RING_AFTER_EMPTY_READS = 25;

export type ListenerState = 'connected' | 'reconnecting' | 'stopped';

/**
 * One LISTEN connection per process. The doorbell only says "read"; every read goes through
 * the ChangeReader, so delivery after a doorbell, after a reconnect and on the safety poll is
 * the same code. Reads never overlap: a request during a read schedules one more.
 */
export class ChangeListener {
  private subscriber: Subscriber;
  private state: ListenerState = 'stopped';
  private reading = false;
  private again = false;
  private followUp: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly followUpMs: number;
  private readonly pollMs: number;
  private readonly coalesceMs: number;
  private readonly followMs: number;
  private busyReads = 0;
  private emptyReads = 0;
  private following = false;
  private nextFollow: NodeJS.Timeout | undefined;

  constructor(private readonly opts: ListenerOptions) {
    this.followUpMs = opts.followUpMs ?? 5;
    this.pollMs = opts.pollMs ?? 250;
    this.coalesceMs = opts.coalesceMs ?? 2;
    this.followMs = opts.followMs ?? 2;
    this.subscriber = createSubscriber(
      { connectionString: opts.databaseUrl, application_name: 'pulse-listener' },
      // pg-listen gives up after 3 s by default; a server must outlive any database outage.
      { retryLimit: Infinity, retryTimeout: 0, retryInterval: (n) => Math.min(250 * n, 2000), paranoidChecking: 5000, parse: (s) => s }
    );
    this.subscriber.events.on('connected', () => {
      this.state = 'connected';
      opts.logger.info('change listener connected');
      this.requestRead(); // whatever committed while we were away
    });
    this.subscriber.events.on('reconnect', (attempt) => {
      this.state = 'reconnecting';
      if (attempt === 1 || attempt % 10 === 0) opts.logger.warn({ attempt }, 'change listener reconnecting');
    });
    this.subscriber.events.on('error', (err) => opts.logger.error({ err }, 'change listener error'));
    this.subscriber.notifications.on(DOORBELL_CHANNEL, () => {
      this.requestRead();
      clearTimeout(this.followUp);
      this.followUp = setTimeout(() => this.requestRead(), this.followUpMs);
    });
  }

  get connectionState(): ListenerState {
    return this.state;
  }

  async start(): Promise<void> {
    await this.opts.reader.start();
    await this.subscriber.connect();
    await this.subscriber.listenTo(DOORBELL_CHANNEL);
    this.schedulePoll();
  }

  /** Reads now, or right after the read in progress. */
  requestRead(): void {
    if (this.closed) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    void this.readLoop();
  }

  private async readLoop() {
    try {
      for (;;) {
        this.again = false;
        const found = await this.opts.reader.read(this.opts.onChanges);
        this.afterRead(found);
        if (!this.again || this.closed) break;
        if (this.coalesceMs > 0) await new Promise((r) => setTimeout(r, this.coalesceMs));
      }
    } catch (err) {
      // The database may be restarting: the cursor is unchanged, the next read picks up from it.
      if (!this.closed) this.opts.logger.warn({ err: (err as Error).message }, 'change read failed; will retry');
    } finally {
      this.reading = false;
    }
  }

  /**
   * Decides what comes after a read: while changes keep coming, follow them with the doorbell
   * silenced; when they stop, let it ring again. A read that found changes is always followed
   * by one more shortly after, for transactions that committed just after it.
   */
  private afterRead(found: number) {
    if (found > 0) {
      this.busyReads += 1;
      this.emptyReads = 0;
    } else {
      this.busyReads = 0;
      this.emptyReads += 1;
    }
    const silencer = this.opts.silencer;
    if (silencer && !this.following && this.busyReads >= FOLLOW_AFTER_BUSY_READS) {
      this.following = true;
      void silencer.silence();
    }
    if (this.following && this.emptyReads >= RING_AFTER_EMPTY_READS) {
      this.following = false;
      // Writers that saw the key held and committed after this point are caught by the read
      // right after the key is back, or by its follow-up.
      void silencer!.restore().then(() => this.readSoon(0));
      return;
    }
    if (this.following) this.readSoon(this.followMs);
    else if (found > 0) this.readSoon(this.followUpMs);
  }

  private readSoon(ms: number) {
    if (this.closed) return;
    clearTimeout(this.nextFollow);
    this.nextFollow = setTimeout(() => this.requestRead(), ms);
  }

  private schedulePoll() {
    this.poll = setTimeout(() => {
      this.requestRead();
      if (!this.closed) this.schedulePoll();
    }, this.pollMs);
    this.poll.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.state = 'stopped';
    clearTimeout(this.poll);
    clearTimeout(this.followUp);
    clearTimeout(this.nextFollow);
    while (this.reading) await new Promise((r) => setTimeout(r, 5));
    await this.opts.silencer?.restore();
    await this.subscriber.close().catch(() => undefined);
  }
}
