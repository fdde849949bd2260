import type pg from 'pg';
import { insertBatch, type InsertableBatch } from './bulk-insert.js';

export type Batches = Record<string, InsertableBatch>;

/**
 * One transaction per chunk. Change capture is paused (nobody listens to an empty database yet and
 * the outbox would double the work): pause_capture() may be called by the owner of the schema and
 * whoever it grants it to. The loyalty trigger still runs and keeps the balances.
 */
export async function insertInSeedTransaction(
  client: pg.Client,
  batches: Batches
): Promise<Map<string, number>> {
  const inserted = new Map<string, number>();
  await client.query('BEGIN; SELECT pause_capture(); SET LOCAL synchronous_commit = off');
  try {
    for (const batch of Object.values(batches))
      inserted.set(batch.table.name, await insertBatch(client, batch));
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  return inserted;
}

/**
 * Inserts chunks as they are produced, over one or more connections. Chunks never refer to each
 * other's rows (ids are fixed when they are generated), so they can commit in any order.
 */
export class InsertPipeline {
  private readonly idle: pg.Client[];
  private readonly running = new Set<Promise<void>>();
  private failure: unknown = null;

  constructor(
    clients: pg.Client[],
    private readonly onCommitted: (inserted: Map<string, number>, customers: number) => void
  ) {
    this.idle = [...clients];
  }

  /** Starts inserting `batches` as soon as a connection is free; throws if an earlier chunk failed. */
  async submit(batches: Batches, customers: number): Promise<void> {
    while (this.idle.length === 0 && this.failure === null) await Promise.race(this.running);
    if (this.failure !== null) throw this.failure;
    const client = this.idle.pop()!;
    const task = insertInSeedTransaction(client, batches)
      .then((inserted) => this.onCommitted(inserted, customers))
      .catch((error: unknown) => {
        this.failure ??= error;
      })
      .finally(() => {
        this.running.delete(task);
        this.idle.push(client);
      });
    this.running.add(task);
  }

  /** Waits for every started chunk, whatever happens to them. */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }

  /** Waits for every started chunk; throws the first failure. */
  async finish(): Promise<void> {
    await this.settle();
    if (this.failure !== null) throw this.failure;
  }
}
