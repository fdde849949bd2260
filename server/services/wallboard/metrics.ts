import type { Logger } from 'pino';
import type { WallboardSnapshot } from '#shared/schemas/metrics.js';
import type { Db } from '../../data/db.js';
import type { ChangeRow } from '../../data/change-row.js';
import { computeSnapshot } from './compute.js';
import { KEPT_FACTS, agentFact, thresholdFact, type KeptTopic, type WallboardState } from './facts.js';
import { loadWallboardState } from './load.js';

export interface WallboardMetricsOptions {
  db: Db;
  timezone: string;
  logger: Logger;
  /** Recompute everything from SQL this often (it also runs at the start of every store day). */
  reconcileMs?: number;
  /** Injected in tests; epoch milliseconds. */
  clock?: () => number;
}

/**
 * The wallboard's state, kept from the change stream and reconciled from SQL. Every change row the
 * listener reads is applied to the facts it concerns; every `reconcileMs`, and when a new store day
 * starts, the facts are loaded afresh. A reconcile overlaps live changes safely: the rows applied
 * while it ran are applied again, in order, to what it loaded (a fact is the row's latest state, so
 * applying a change twice is harmless, and a later change always wins).
 */
export class WallboardMetrics {
  private state: WallboardState | null = null;
  /** The rows applied while a reconcile runs, to apply again to what it loads. */
  private replay: ChangeRow[] | null = null;
  private readonly listeners = new Set<() => void>();
  private reconciling: Promise<void> | null = null;
  private periodic: NodeJS.Timeout | undefined;
  private rollover: NodeJS.Timeout | undefined;
  private closed = false;
  readonly clock: () => number;

  constructor(private readonly opts: WallboardMetricsOptions) {
    this.clock = opts.clock ?? Date.now;
  }

  /** Loads the state and keeps it reconciled until `close()`. */
  async start(): Promise<void> {
    await this.reconcile();
    const every = this.opts.reconcileMs ?? 60_000;
    const tick = () => {
      this.periodic = setTimeout(() => {
        void this.reconcile()
          .catch((err) =>
            this.opts.logger.warn({ err: (err as Error).message }, 'wallboard reconcile failed')
          )
          .finally(() => !this.closed && tick());
      }, every);
      this.periodic.unref();
    };
    tick();
  }

  /** Called when the numbers may have changed (a change applied, a reconcile done). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Recomputes the whole state from SQL; concurrent calls share one run. */
  reconcile(): Promise<void> {
    this.reconciling ??= this.runReconcile().finally(() => (this.reconciling = null));
    return this.reconciling;
  }

  private async runReconcile() {
    const started = performance.now();
    const replay: ChangeRow[] = [];
    this.replay = replay;
    try {
      const fresh = await loadWallboardState(
        this.opts.db,
        this.opts.timezone,
        this.clock(),
        (topic, entityId, err) =>
          this.opts.logger.error({ err, topic, entityId }, 'wallboard could not read a row; left out')
      );
      for (const row of replay) this.applySafely(fresh, row);
      this.state = fresh;
    } finally {
      this.replay = null;
    }
    this.opts.logger.debug(
      { ms: Math.round(performance.now() - started), replayed: replay.length },
      'wallboard reconciled'
    );
    this.scheduleRollover();
    this.changed();
  }

  /** At the start of the next store day, everything "today" starts again from SQL. */
  private scheduleRollover() {
    clearTimeout(this.rollover);
    if (this.closed || !this.state) return;
    const wait = Math.max(this.state.bounds.tomorrowStart - this.clock(), 0) + 50;
    this.rollover = setTimeout(
      () => {
        void this.reconcile().catch((err) =>
          this.opts.logger.warn({ err: (err as Error).message }, 'wallboard day rollover failed')
        );
      },
      Math.min(wait, 2 ** 31 - 1)
    );
    this.rollover.unref();
  }

  /** Applies one read of the change log. */
  apply(rows: readonly ChangeRow[]): void {
    let relevant = false;
    for (const row of rows) {
      if (!RELEVANT.has(row.topic)) continue;
      relevant = true;
      if (this.state && !this.applySafely(this.state, row)) continue;
      this.replay?.push(row);
    }
    if (relevant) this.changed();
  }

  /**
   * One row the wallboard cannot read (a value outside what it expects) is logged and skipped: it
   * must not hold back the rest of the read, which the hub delivers right after this.
   */
  private applySafely(state: WallboardState, row: ChangeRow): boolean {
    try {
      applyRow(state, row);
      return true;
    } catch (err) {
      this.opts.logger.error(
        { err, seq: row.id, topic: row.topic, entityId: row.entityId },
        'wallboard could not apply a change; skipped'
      );
      return false;
    }
  }

  /** The numbers at `now` (the wallboard's clock by default). Null before the first reconcile. */
  snapshot(now = this.clock()): WallboardSnapshot | null {
    return this.state ? computeSnapshot(this.state, now) : null;
  }

  private changed() {
    for (const listener of this.listeners) listener();
  }

  close() {
    this.closed = true;
    clearTimeout(this.periodic);
    clearTimeout(this.rollover);
    this.listeners.clear();
  }
}

const RELEVANT = new Set([...Object.keys(KEPT_FACTS), 'user', 'wallboard_threshold']);

/** One change applied to the facts: the row's new state replaces its fact, or drops it. */
export function applyRow(state: WallboardState, row: ChangeRow): void {
  const id = Number(row.entityId ?? row.data.id);
  const gone = row.op === 'delete';
  if (Object.hasOwn(KEPT_FACTS, row.topic))
    return KEPT_FACTS[row.topic as KeptTopic](state, id, gone ? null : row.data);
  switch (row.topic) {
    case 'user': {
      const f = agentFact(row.data);
      if (f) state.agents.set(id, f);
      else state.agents.delete(id);
      return;
    }
    case 'wallboard_threshold': {
      const metric = row.data.metric as string;
      if (gone) state.thresholds.delete(metric as never);
      else state.thresholds.set(metric as never, thresholdFact(row.data));
      return;
    }
  }
}
