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
  /** The safety poll's period (POLL_MS); tests make it long to see which reads the doorbell and the follow-ups make. */
  pollMs?: number;
}

/**
 * A read after one whose snapshot shows transactions in progress, when one of them may have
 * committed without ringing: see `followUp()`.
 */
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
/**
 * When the listener follows the stream: after FOLLOW_AFTER_BUSY_READS reads in a row that found
 * changes, each within FOLLOW_GAP_MS of the one before (reads that find nothing in between do not
 * break the row): changes coming at 125 a second or more. Following means a read every
 * FOLLOW_MS; at 64 commits/s from one writer seven in eight of those find nothing, while the
 * doorbell costs such a writer little (NOTIFY's commit lock matters when writers commit together).
 */
const FOLLOW_AFTER_BUSY_READS = 3;
const FOLLOW_GAP_MS = 8;
/** Consecutive empty reads after which it lets the doorbell ring again (the stream stopped). */
const RING_AFTER_EMPTY_READS = 25;
/**
 * It also lets the doorbell ring again when, over RING_WINDOW_MS, fewer than
 * RING_BELOW_BUSY_READS reads found changes (the stream thinned below about 80 commits/s).
 */
const RING_BELOW_BUSY_READS = 8;
const RING_WINDOW_MS = 100;

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
  /** When the reads of the last RING_WINDOW_MS that found changes were made. */
  private busyAt: number[] = [];
  /** Reads in a row that found changes, each soon after the one before. */
  private busyRun = 0;
  private emptyReads = 0;
  private following = false;
  private followingSince = 0;
  /** A doorbell rang (or the key came back) since the last read began: see `followUp()`. */
  private skippersPossible = false;
  /** The transactions in progress at the last read, and the wait before the follow-up of it. */
  private lastInProgress = new Set<bigint>();
  private followUpMs = FOLLOW_UP_MS;
  private readonly pollMs: number;

  constructor(private readonly opts: ListenerOptions) {
    this.pollMs = opts.pollMs ?? POLL_MS;
    this.subscriber = listenConnection(opts.databaseUrl);
    this.subscriber.events.on('connected', () => {
      this.state = 'connected';
      opts.logger.info('change listener connected');
      this.skippersPossible = true; // doorbells may have rung while we were away
      this.requestRead(); // whatever committed while we were away
    });
    this.subscriber.events.on('reconnect', (attempt) => {
      this.state = 'reconnecting';
      if (attempt === 1 || attempt % 10 === 0) opts.logger.warn({ attempt }, 'change listener reconnecting');
    });
    this.subscriber.events.on('error', (err) => opts.logger.error({ err }, 'change listener error'));
    this.subscriber.notifications.on(DOORBELL_CHANNEL, () => {
      this.skippersPossible = true;
      this.requestRead();
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
    this.readWithin(this.pollMs);
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
        const skippersPossible = this.skippersPossible;
        this.skippersPossible = false;
        this.afterRead(await this.opts.reader.read(this.handOn), skippersPossible);
        if (!this.again || this.closed) break;
        await new Promise((r) => setTimeout(r, COALESCE_MS));
      }
    } catch (err) {
      // The database may be restarting: the cursor is unchanged, the next read picks up from it.
      if (!this.closed)
        this.opts.logger.warn({ err: (err as Error).message }, 'change read failed; will retry');
    } finally {
      this.reading = false;
      this.readWithin(this.pollMs);
    }
  }

  /**
   * Decides when the next read is due: while changes come fast, follow them with the doorbell
   * silenced; when the stream stops or thins out, let it ring again.
   * Otherwise a read is followed up only when a transaction may have committed unseen.
   */
  private afterRead(found: number, skippersPossible: boolean) {
    const now = Date.now();
    if (found > 0) {
      const previous = this.busyAt.at(-1);
      this.busyRun = previous !== undefined && now - previous <= FOLLOW_GAP_MS ? this.busyRun + 1 : 1;
      this.busyAt.push(now);
      this.emptyReads = 0;
    } else this.emptyReads += 1;
    while (this.busyAt.length > 0 && this.busyAt[0] <= now - RING_WINDOW_MS) this.busyAt.shift();
    const { silencer } = this.opts;
    if (silencer && !this.following && this.busyRun >= FOLLOW_AFTER_BUSY_READS) {
      this.following = true;
      this.followingSince = now;
      void silencer.silence();
    } else if (
      silencer &&
      this.following &&
      (this.emptyReads >= RING_AFTER_EMPTY_READS ||
        (now - this.followingSince >= RING_WINDOW_MS && this.busyAt.length < RING_BELOW_BUSY_READS))
    ) {
      this.following = false;
      this.busyRun = 0;
      // Writers that saw the key held and are committing now are in the snapshot of the read
      // right after the key is back, which follows them up.
      void silencer.restore().then(() => {
        this.skippersPossible = true;
        this.readWithin(0);
      });
      return;
    }
    if (this.following) this.readWithin(FOLLOW_MS);
    else this.followUp(found > 0 || skippersPossible);
  }

  /**
   * A transaction rings the doorbell at commit unless another holds it at that moment: then it
   * commits unheard. It tried while the ringer was committing, so before the ringer's
   * notification reached us: the read that notification starts has it in its snapshot's
   * in-progress list, or already sees its rows. So a read needs a follow-up only when its
   * snapshot shows transactions in progress, and only after a doorbell (or a read that found
   * changes, or the key coming back): with nobody in progress, nothing can commit unseen. The
   * follow-ups back off while the same transactions stay open: one that skipped was committing
   * and ends within a commit's time; a long one is not committing yet, and rings when it does
   * (or is in the snapshot of the read the ringer it skipped for starts).
   */
  private followUp(fresh: boolean) {
    const inProgress = this.opts.reader.position?.xip ?? [];
    const previous = this.lastInProgress;
    this.lastInProgress = new Set(inProgress);
    if (inProgress.length === 0) {
      this.followUpMs = FOLLOW_UP_MS;
      return;
    }
    const newcomer = inProgress.some((xid) => !previous.has(xid));
    this.followUpMs = fresh || newcomer ? FOLLOW_UP_MS : Math.min(this.followUpMs * 2, this.pollMs);
    this.readWithin(this.followUpMs);
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
