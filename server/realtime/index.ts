import { createAdapter as createPostgresAdapter } from '@socket.io/postgres-adapter';
import { createAdapter as createRedisAdapter } from '@socket.io/redis-adapter';
import type { Server as HttpServer } from 'node:http';
import pg from 'pg';
import type { Logger } from 'pino';
import { createClient } from 'redis';
import type { Sequelize } from 'sequelize';
import type { Auth } from '../auth/lucia.js';
import type { Config } from '../config.js';
import { ChangeReader, pruneChangeLog } from './change-reader.js';
import { Hub } from './hub.js';
import { ChangeListener, type ListenerState } from './listener.js';

export interface RealtimeOptions {
  httpServer: HttpServer;
  config: Config;
  databaseUrl: string;
  auth: Auth;
  sequelize: Sequelize;
  logger: Logger;
}

export interface Realtime {
  hub: Hub;
  listener: ChangeListener;
  reader: ChangeReader;
  listenerState(): ListenerState;
  close(): Promise<void>;
}

const PRUNE_EVERY_MS = 10 * 60_000;

/** Change listener -> reader -> hub, plus the adapter that carries socket-originated events between processes. */
export async function startRealtime(opts: RealtimeOptions): Promise<Realtime> {
  const { config, logger } = opts;
  const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 4, application_name: 'pulse-realtime' });
  pool.on('error', (err) => logger.warn({ err: err.message }, 'realtime pool connection lost'));

  const reader = new ChangeReader(pool);
  const hub = new Hub({
    httpServer: opts.httpServer,
    auth: opts.auth,
    pool,
    logger,
    allowedOrigins: config.ALLOWED_ORIGINS,
    trustProxy: config.TRUST_PROXY,
    horizon: () => reader.horizon
  });
  const closeAdapter = await attachAdapter(hub, pool, config, logger);
  const listener = new ChangeListener({ databaseUrl: opts.databaseUrl, reader, logger, onChanges: (r) => hub.dispatch(r) });
  await listener.start();

  const prune = setInterval(() => {
    pruneChangeLog(pool, config.CHANGE_LOG_RETENTION_HOURS)
      .then((n) => n > 0 && logger.info({ deleted: n }, 'change log pruned'))
      .catch((err) => logger.warn({ err: err.message }, 'change log prune failed'));
  }, PRUNE_EVERY_MS);
  prune.unref();

  return {
    hub,
    listener,
    reader,
    listenerState: () => listener.connectionState,
    close: async () => {
      clearInterval(prune);
      await listener.close();
      await hub.close();
      await closeAdapter();
      await pool.end();
    }
  };
}

/** Redis when REDIS_URL is set, otherwise Postgres: no new infrastructure by default. */
async function attachAdapter(hub: Hub, pool: pg.Pool, config: Config, logger: Logger): Promise<() => Promise<void>> {
  if (config.REDIS_URL) {
    const pub = createClient({ url: config.REDIS_URL });
    const sub = pub.duplicate();
    pub.on('error', (err) => logger.warn({ err: err.message }, 'redis adapter error'));
    sub.on('error', (err) => logger.warn({ err: err.message }, 'redis adapter error'));
    await Promise.all([pub.connect(), sub.connect()]);
    hub.io.adapter(createRedisAdapter(pub, sub));
    return async () => {
      await Promise.allSettled([pub.quit(), sub.quit()]);
    };
  }
  hub.io.adapter(
    createPostgresAdapter(pool, {
      tableName: 'socket_io_attachments',
      errorHandler: (err) => logger.warn({ err: err.message }, 'postgres adapter error')
    })
  );
  return async () => undefined;
}
