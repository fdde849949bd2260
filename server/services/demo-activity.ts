import type pg from 'pg';
import type { Logger } from 'pino';
import { DEMO_USERS } from '../../db/seed/demo-users.js';
import { Simulator } from '../../db/simulate/simulator.js';
import type { DemoActivityStatus } from '#shared/schemas/demo.js';
import type { Actor } from '../auth/actor.js';
import type { Db } from '../data/db.js';
import { dedicatedClient, resilientPool } from '../data/dedicated-connections.js';
import { audit } from './audit.js';

// A gentle stream of simulated shop activity on the embedded demo, so that someone trying Pulse
// sees the console and the wallboard move without running `npm run simulate`. It writes through
// the same Simulator, straight into Postgres, so every event reaches the screens the way an
// outside system's would: trigger -> change_log -> listener -> hub.

/** The average gap between two events: about five a minute, enough to see the screens move. */
export const DEMO_INTERVAL_MS = 12_500;
/** Each gap is the average ± this fraction (12.5 s -> 10 to 15 s), so events do not tick like a clock. */
const JITTER = 0.2;
/** Postgres abandons a statement after this long (a row lock held elsewhere), so pause and close never wait on a step for long. */
const STATEMENT_TIMEOUT_MS = 10_000;
/** How long a step waits for its connection when Postgres is away; the step fails and the next one tries again. */
const CONNECT_TIMEOUT_MS = 5_000;

export interface DemoActivityOptions {
  /** The average gap between events (tests use a few milliseconds). Default DEMO_INTERVAL_MS. */
  intervalMs?: number;
  /** The simulator's random seed. Default: from the clock. */
  seed?: number;
}

/**
 * Runs one simulated event every interval (jittered) on a connection of its own. A failed event
 * is logged and the next one is tried on schedule, so a database outage only makes events fail
 * until it is over; nothing here can take the server down.
 */
export class DemoActivity {
  /** Simulated events written since start. */
  events = 0;
  private readonly pool: pg.Pool;
  private readonly intervalMs: number;
  private readonly seed: number;
  private simulator: Simulator | undefined;
  private running = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  /** The event being written, if any: pausing and closing wait for it. */
  private inFlight: Promise<void> | undefined;
  /** Failures in a row, and the last one's message: one warning per run of identical failures, not one per event. */
  private failures = { count: 0, message: '' };

  constructor(
    databaseUrl: string,
    private readonly logger: Logger,
    opts: DemoActivityOptions = {}
  ) {
    this.intervalMs = opts.intervalMs ?? DEMO_INTERVAL_MS;
    this.seed = opts.seed ?? Date.now() % 2 ** 31;
    // A connection Postgres drops (a restart) is logged, never an uncaught error.
    this.pool = resilientPool(databaseUrl, 'pulse-demo-activity', 1, logger, {
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      statement_timeout: STATEMENT_TIMEOUT_MS
    });
  }

  get eventsPerMinute(): number {
    return Math.round((60_000 / this.intervalMs) * 10) / 10;
  }

  get status(): DemoActivityStatus {
    return {
      available: true,
      running: this.running,
      eventsPerMinute: this.eventsPerMinute,
      events: this.events
    };
  }

  /** Starts (or continues) writing events. */
  resume(): void {
    if (this.closed) return;
    this.running = true;
    this.schedule();
  }

  /** Stops writing events; resolves once the event in hand (if any) has committed or failed, so no row follows. */
  async pause(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  /** Stops for good and closes the connection; call it before the database goes away. */
  async close(): Promise<void> {
    this.closed = true;
    await this.pause();
    await this.pool.end();
  }

  private schedule() {
    // An event in hand schedules the next one when it is done.
    if (!this.running || this.closed || this.timer || this.inFlight) return;
    const delay = this.intervalMs * (1 - JITTER + 2 * JITTER * Math.random());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.inFlight = this.step().finally(() => {
        this.inFlight = undefined;
        this.schedule();
      });
    }, delay);
    this.timer.unref();
  }

  private async step() {
    try {
      // Read the demo data's shape on the first event that reaches the database.
      this.simulator ??= await Simulator.create(this.pool, this.seed);
      const kind = await this.simulator.step();
      this.events++;
      if (this.failures.count > 0)
        this.logger.info({ failed: this.failures.count }, 'demo activity: events are being written again');
      this.failures = { count: 0, message: '' };
      this.logger.debug({ kind }, 'demo activity: event written');
    } catch (err) {
      const message = (err as Error).message;
      if (this.failures.count === 0 || message !== this.failures.message) {
        this.logger.warn({ err }, 'demo activity: an event failed; the next one will be tried on schedule');
      } else {
        this.logger.debug({ err }, 'demo activity: an event failed again');
      }
      this.failures = { count: this.failures.count + 1, message };
    }
  }
}

/** Pauses or resumes the demo activity for a manager or admin; a change of state is audited. */
export async function setDemoActivityRunning(
  db: Db,
  actor: Actor,
  { activity, running }: { activity: DemoActivity; running: boolean }
): Promise<DemoActivityStatus> {
  if (activity.status.running !== running) {
    if (running) activity.resume();
    else await activity.pause();
    await audit(db, {
      action: running ? 'demo_activity.resumed' : 'demo_activity.paused',
      actorUserId: actor.user.id,
      targetType: 'demo_activity',
      ip: actor.ip
    });
  }
  return activity.status;
}

/** What the API answers on a server without demo activity. */
export const NO_DEMO_ACTIVITY: DemoActivityStatus = {
  available: false,
  running: false,
  eventsPerMinute: 0,
  events: 0
};

/**
 * Whether the database holds Pulse's generated demo data (its demo logins and customers): the
 * only kind of database the demo activity may write into.
 */
export async function holdsDemoData(databaseUrl: string, logger: Logger): Promise<boolean> {
  const client = await dedicatedClient(databaseUrl, 'pulse-demo-activity', logger);
  try {
    const { rows } = await client.query<{ demo: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM users WHERE email = ANY($1::text[])) AND EXISTS (SELECT 1 FROM customers) AS demo`,
      [DEMO_USERS.map((u) => u.email)]
    );
    return rows[0].demo;
  } finally {
    await client.end();
  }
}
