import type { Subscriber } from 'pg-listen';
import type { Logger } from 'pino';
import { listenConnection } from '../data/dedicated-connections.js';
import type { ChangeReader, ReadResult } from './change-reader.js';
import type { DoorbellSilencer } from './doorbell-silencer.js';

export const DOORBELL_CHANNEL = 'crm_change';

export interface ListenerOptions {
  databaseUrl: string;
  reader: ChangeReader;
  onChanges: (result: ReadResult) => void;
  logger: Logger;
  /**
   * When given, a sustained stream of changes switches the listener to following the stream:
   * it silences the doorbell (writers then skip NOTIFY at commit) and reads every FOLLOW_MS.
   */
  silencer?: DoorbellSilencer;
}

/** A read after a doorbell or after a read that found changes, for transactions that committed just after. */
const FOLLOW_UP_MS = 5;
/** The safety net: the longest the listener goes without reading (a ringer was busy, a notification was lost, a read failed). */
const POLL_MS = 250;
/**
 * Under a continuous stream of doorbells, the wait between back-to-back reads so that each read
 * carries a batch instead of one row (fewer queries, same order). Idle reads are immediate.
 */
const COALESCE_MS = 2;
/** The gap between reads while following a stream. */
const FOLLOW_MS = 2;
/** Consecutive reads that found changes before the listener follows the stream. */
const FOLLOW_AFTER_BUSY_READS = 3;
/** Consecutive empty reads after which it lets the doorbell ring again. */
const RING_AFTER_EMPTY_READS = 25;

export type ListenerState = 'connected' | 'reconnecting' | 'stopped';

/**
 * One LISTEN connection per process. The doorbell only says "read"; every read goes through
 * the ChangeReader, so delivery after a doorbell, after a reconnect, while following a stream and
 * on the safety poll is the same code. Reads never overlap: a request during a read schedules one
 * more. One timer holds the next read that is due, whatever asked for it.
 */
export class ChangeListener {
  private subscriber: Subscriber;
  private state: ListenerState = 'stopped';
  private reading = false;
  private again = false;
  private closed = false;
  private next: { at: number; timer: NodeJS.Timeout } | undefined;
  private busyReads = 0;
  private emptyReads = 0;
  private following = false;

  constructor(private readonly opts: ListenerOptions) {
    this.subscriber = listenConnection(opts.databaseUrl);
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
      this.readWithin(FOLLOW_UP_MS);
    });
  }

  /**
   * Hands a read on. The reader has already moved its cursor past these rows, so whatever goes
   * wrong downstream must not escape into the read loop (which would drop the rest of the read,
   * or read a streamed backlog again and again): it is logged, and reading goes on.
   */
  private readonly handOn = (result: ReadResult) => {
    try {
      this.opts.onChanges(result);
    } catch (err) {
      this.opts.logger.error({ err, rows: result.rows.length }, 'delivering a read failed');
    }
  };

  get connectionState(): ListenerState {
    return this.state;
  }

  async start(): Promise<void> {
    await this.opts.reader.start();
    await this.subscriber.connect();
    await this.subscriber.listenTo(DOORBELL_CHANNEL);
    this.readWithin(POLL_MS);
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

  /** Makes sure a read starts within `ms`: an earlier one already due is kept. */
  private readWithin(ms: number) {
    if (this.closed) return;
    const at = Date.now() + ms;
    if (this.next && this.next.at <= at) return;
    clearTimeout(this.next?.timer);
    const timer = setTimeout(() => {
      this.next = undefined;
      this.requestRead();
    }, ms);
    timer.unref();
    this.next = { at, timer };
  }

  private async readLoop() {
    try {
      for (;;) {
        this.again = false;
        this.afterRead(await this.opts.reader.read(this.handOn));
        if (!this.again || this.closed) break;
        await new Promise((r) => setTimeout(r, COALESCE_MS));
      }
    } catch (err) {
      // The database may be restarting: the cursor is unchanged, the next read picks up from it.
      if (!this.closed)
        this.opts.logger.warn({ err: (err as Error).message }, 'change read failed; will retry');
    } finally {
      this.reading = false;
      this.readWithin(POLL_MS);
    }
  }

  /**
   * Decides when the next read is due: while changes keep coming, follow them with the doorbell
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
    // Without a silencer the listener never follows: a read that found changes gets its follow-up.
    const { silencer } = this.opts;
    if (silencer && !this.following && this.busyReads >= FOLLOW_AFTER_BUSY_READS) {
      this.following = true;
      void silencer.silence();
    } else if (silencer && this.following && this.emptyReads >= RING_AFTER_EMPTY_READS) {
      this.following = false;
      // Writers that saw the key held and committed after this point are caught by the read
      // right after the key is back, or by its follow-up.
      void silencer.restore().then(() => this.readWithin(0));
      return;
    }
    if (this.following) this.readWithin(FOLLOW_MS);
    else if (found > 0) this.readWithin(FOLLOW_UP_MS);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.state = 'stopped';
    clearTimeout(this.next?.timer);
    while (this.reading) await new Promise((r) => setTimeout(r, 5));
    await this.opts.silencer?.restore();
    await this.subscriber.close().catch(() => undefined);
  }
}
