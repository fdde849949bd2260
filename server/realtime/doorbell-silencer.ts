import type pg from 'pg';
import type { Logger } from 'pino';

/**
 * The advisory lock a committing transaction must get before it rings the doorbell
 * (`ring_doorbell()` in db/migrations/20261124-0002-change-log.up.sql).
 */
export const DOORBELL_LOCK_KEY = 7210330641n;

/**
 * Silences the doorbell while this process is reading the change log on its own anyway.
 *
 * A transaction rings only when `pg_try_advisory_xact_lock(DOORBELL_LOCK_KEY)` succeeds. Holding
 * that key in shared mode on one of our connections makes every such attempt fail, so under a
 * sustained stream of writes no writer pays for NOTIFY at commit; the listener follows the stream
 * by reading every few milliseconds instead. Releasing the key (or losing the connection, which
 * releases it too) brings the doorbell back.
 */
export class DoorbellSilencer {
  private client: pg.PoolClient | null = null;
  private pending: Promise<void> | null = null;

  constructor(
    private readonly pool: pg.Pool,
    private readonly logger: Logger
  ) {}

  /** Takes the key. When the database cannot be reached, the doorbell simply keeps ringing. */
  async silence(): Promise<void> {
    if (this.client) return;
    this.pending ??= this.acquire().finally(() => (this.pending = null));
    await this.pending;
  }

  private async acquire(): Promise<void> {
    let client: pg.PoolClient | undefined;
    try {
      client = await this.pool.connect();
      // A checked-out client's connection errors are emitted on it: without a handler they would crash the process.
      client.on('error', this.onLost);
      await client.query('SELECT pg_advisory_lock_shared($1)', [DOORBELL_LOCK_KEY.toString()]);
      this.client = client;
    } catch (err) {
      client?.off('error', this.onLost);
      client?.release(err as Error);
      this.logger.warn({ err: (err as Error).message }, 'could not silence the doorbell; it keeps ringing');
    }
  }

  private readonly onLost = (err: Error) => {
    const client = this.client;
    this.client = null;
    if (!client) return;
    client.off('error', this.onLost);
    client.release(err); // the connection is gone, and the key with it
  };

  /** Gives the key back: transactions ring again. */
  async restore(): Promise<void> {
    if (this.pending) await this.pending;
    const client = this.client;
    if (!client) return;
    this.client = null;
    client.off('error', this.onLost);
    try {
      await client.query('SELECT pg_advisory_unlock_shared($1)', [DOORBELL_LOCK_KEY.toString()]);
      client.release();
    } catch (err) {
      client.release(err as Error); // dropping the connection releases the key
    }
  }
}
