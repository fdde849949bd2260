import type { Logger } from 'pino';
import type { BulkJob } from '#shared/schemas/bulk.js';
import type { Config } from '../../config.js';
import { resilientPool } from '../../data/dedicated-connections.js';
import { BulkRunner } from './runner.js';

export { BulkRunner } from './runner.js';

/**
 * The runner with connections of its own (one per job in hand, and one to look for jobs): bulk
 * work never waits for, or takes, the connections that serve the console.
 */
export function startBulkRunner(opts: {
  databaseUrl: string;
  config: Config;
  logger: Logger;
  notify: (userId: number, job: BulkJob) => void;
}) {
  const { config, logger } = opts;
  const pool = resilientPool(opts.databaseUrl, 'pulse-bulk', config.BULK_CONCURRENCY + 1, logger);
  const runner = new BulkRunner({
    pool,
    logger,
    notify: opts.notify,
    batchSize: config.BULK_BATCH_SIZE,
    concurrency: config.BULK_CONCURRENCY,
    pollMs: config.BULK_POLL_MS
  });
  return {
    start: () => runner.start(),
    wake: () => runner.wake(),
    announce: (job: BulkJob) => runner.announce(job),
    get running() {
      return runner.running;
    },
    close: async () => {
      await runner.close();
      await pool.end();
    }
  };
}
