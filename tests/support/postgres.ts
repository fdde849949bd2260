import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../db/embedded.js';

/** A TCP port nothing listens on right now (on 127.0.0.1). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** `url` pointing at another database on the same server. */
export function withDatabase(url: string, database: string) {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export interface ThrowawayPostgres {
  /** The cluster's `pulse` database (the cluster's user may create databases). */
  url: string;
  /** Stops Postgres and deletes its data directory. */
  stop(): Promise<void>;
  /** Stops Postgres and starts it again on the same data and port (an outage, as clients see it). */
  restart(): Promise<void>;
  /** Stops Postgres, keeping its data: an outage that lasts until `up()`. */
  down(): Promise<void>;
  up(): Promise<void>;
}

/**
 * An embedded Postgres cluster in a fresh temporary directory on a free port, deleted on stop.
 * `fast` trades durability for speed (fsync off); leave it off where commit costs are measured.
 */
export async function startThrowawayPostgres(opts: {
  prefix: string;
  fast?: boolean;
}): Promise<ThrowawayPostgres> {
  const dir = await mkdtemp(path.join(os.tmpdir(), opts.prefix));
  const port = await freePort();
  const start = () => startEmbeddedPostgres({ dir: path.join(dir, 'data'), port, fast: opts.fast });
  let running: EmbeddedDatabase | undefined;
  try {
    running = await start();
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: running.url,
    stop: async () => {
      await running?.stop();
      running = undefined;
      await rm(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await running?.stop();
      running = undefined;
      running = await start();
    },
    down: async () => {
      await running?.stop();
      running = undefined;
    },
    up: async () => {
      running ??= await start();
    }
  };
}
