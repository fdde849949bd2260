import { createAdapter as createPostgresAdapter } from '@socket.io/postgres-adapter';
import type { Server as HttpServer } from 'node:http';
import type pg from 'pg';
import type { Logger } from 'pino';
import { rooms } from '#shared/rooms.js';
import type { BulkJob } from '#shared/schemas/bulk.js';
import type { ImportJob } from '#shared/schemas/imports.js';
import type { PreviewJob } from '#shared/schemas/loyalty-editor.js';
import type { Auth } from '../auth/lucia.js';
import type { Config } from '../config.js';
import type { Db } from '../data/db.js';
import { adapterConnections, resilientPool } from '../data/dedicated-connections.js';
import { ChangeReader, pruneChangeLog } from './change-reader.js';
import { DoorbellSilencer } from './doorbell-silencer.js';
import { Hub } from './hub.js';
import { ChangeListener, type ListenerState } from './listener.js';
import { Wallboard } from './wallboard-channel.js';

export interface RealtimeOptions {
  httpServer: HttpServer;
  config: Config;
  databaseUrl: string;
  auth: Auth;
  logger: Logger;
  /** Background work's connections (the composition root's): the wallboard's reconciles read through them. */
  backgroundDb: Db;
}

export interface Realtime {
  wallboard: Wallboard;
  /** Tells a user's sockets, on every process (through the adapter), how a bulk job of theirs is going. */
  bulkProgress(userId: number, job: BulkJob): void;
  /** The same for an import job (`import:progress`). */
  importProgress(userId: number, job: ImportJob): void;
  /** Tells a user's sockets how a loyalty impact preview of theirs is going. */
  loyaltyPreviewProgress(userId: number, job: PreviewJob): void;
  listenerState(): ListenerState;
  close(): Promise<void>;
}

const PRUNE_EVERY_MS = 10 * 60_000;

/** Change listener -> reader -> hub, plus the adapter that carries socket-originated events between processes. */
export async function startRealtime(opts: RealtimeOptions): Promise<Realtime> {
  const { config, logger } = opts;
  const pool = resilientPool(opts.databaseUrl, 'pulse-realtime', 4, logger);

  const reader = new ChangeReader(pool);
  // Replays of reconnecting clients have their own connections: a storm of them never delays live reads.
  const replayPool = resilientPool(opts.databaseUrl, 'pulse-replay', 2, logger);
  const wallboard = new Wallboard({
    db: opts.backgroundDb,
    timezone: config.STORE_TIMEZONE,
    logger,
    reconcileMs: config.WALLBOARD_RECONCILE_SECONDS * 1000,
    minIntervalMs: config.WALLBOARD_FRAME_MS
  });
  const hub = new Hub({
    httpServer: opts.httpServer,
    auth: opts.auth,
    pool,
    replayPool,
    logger,
    allowedOrigins: config.ALLOWED_ORIGINS,
    trustProxy: config.TRUST_PROXY,
    position: () => reader.position,
    settled: () => reader.settled(),
    horizon: () => reader.horizon,
    sessionMaxMs: config.SESSION_MAX_HOURS * 3_600_000,
    burstLimit: config.LIVE_BURST_LIMIT,
    wallboard
  });
  wallboard.attach(hub.io);
  const closeAdapter = await attachAdapter(hub, opts.databaseUrl, config, logger);
  hub.presence.start({ heartbeatMs: config.PRESENCE_HEARTBEAT_MS });
  const silencer = new DoorbellSilencer(pool, logger);
  const listener = new ChangeListener({
    databaseUrl: opts.databaseUrl,
    reader,
    logger,
    silencer,
    onChanges: (r) => hub.dispatch(r)
  });
  await listener.start();
  // After the reader's cursor is set: whatever commits from here is either loaded or applied.
  await wallboard.start();

  const prune = setInterval(() => {
    pruneChangeLog(pool, config.CHANGE_LOG_RETENTION_HOURS)
      .then((n) => n > 0 && logger.info({ deleted: n }, 'change log pruned'))
      .catch((err) => logger.warn({ err: err.message }, 'change log prune failed'));
  }, PRUNE_EVERY_MS);
  prune.unref();

  return {
    wallboard,
    bulkProgress: (userId, job) => hub.io.to(rooms.user(userId)).emit('bulk:progress', job),
    importProgress: (userId, job) => hub.io.to(rooms.user(userId)).emit('import:progress', job),
    loyaltyPreviewProgress: (userId, job) =>
      hub.io.to(rooms.user(userId)).emit('loyalty:preview_progress', job),
    listenerState: () => listener.connectionState,
    close: async () => {
      clearInterval(prune);
      wallboard.close();
      await listener.close();
      await hub.close();
      await closeAdapter();
      await pool.end();
      await replayPool.end();
    }
  };
}

/** Redis when REDIS_URL is set, otherwise Postgres: no new infrastructure by default. */
async function attachAdapter(
  hub: Hub,
  databaseUrl: string,
  config: Config,
  logger: Logger
): Promise<() => Promise<void>> {
  if (config.REDIS_URL) {
    // Loaded only when used: the client and its command tables are megabytes of heap otherwise.
    const [{ createClient }, { createAdapter: createRedisAdapter }] = await Promise.all([
      import('redis'),
      import('@socket.io/redis-adapter')
    ]);
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
  const connections = adapterConnections(databaseUrl, logger);
  hub.io.adapter(
    createPostgresAdapter(connections as unknown as pg.Pool, {
      tableName: 'socket_io_attachments',
      errorHandler: (err) => logger.warn({ err: err.message }, 'postgres adapter error')
    })
  );
  return connections.end;
}
