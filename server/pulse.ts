import { createAdaptorServer } from '@hono/node-server';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { migrateUp } from '../db/migrate.js';
import { createApp } from './app.js';
import { createLucia } from './auth/lucia.js';
import type { Config } from './config.js';
import { acquireSequelize } from './db.js';
import { startRealtime, type Realtime } from './realtime/index.js';

export interface PulseOptions {
  config: Config;
  databaseUrl: string;
  logger: Logger;
  staticDir?: string;
  /** Run pending migrations before serving (default true). */
  migrate?: boolean;
}

export interface RunningPulse {
  url: string;
  port: number;
  realtime: Realtime;
  close(): Promise<void>;
}

/**
 * Composition root: database -> HTTP server -> Hono app + Socket.IO -> change listener.
 * `npm start` and the tests both start Pulse through here.
 */
export async function startPulse(opts: PulseOptions): Promise<RunningPulse> {
  const { config, logger } = opts;
  const { sequelize, release } = acquireSequelize(opts.databaseUrl);
  if (opts.migrate !== false) await migrateUp(sequelize);

  const auth = createLucia(config);
  let realtime: Realtime | undefined;
  const app = createApp(
    { config, sequelize, auth, logger, listenerState: () => realtime?.listenerState() ?? 'stopped' },
    { staticDir: opts.staticDir }
  );
  const httpServer = createAdaptorServer({ fetch: app.fetch }) as HttpServer;
  realtime = await startRealtime({ httpServer, config, databaseUrl: opts.databaseUrl, auth, logger });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.PORT, config.HOST, () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  const shownHost = config.HOST === '0.0.0.0' || config.HOST === '127.0.0.1' ? 'localhost' : config.HOST;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    realtime,
    close: () =>
      (closing ??= (async () => {
        await realtime!.close();
        httpServer.closeAllConnections?.();
        await new Promise<void>((resolve) => httpServer.close(() => resolve()));
        await release();
      })())
  };
}
