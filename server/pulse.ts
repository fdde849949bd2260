import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CountryCode } from 'libphonenumber-js';
import type { Logger } from 'pino';
import { migrateUp } from '../db/migrate.js';
import { createApp } from './app.js';
import { INTEGRATION_TOKEN_DEPRECATION } from './auth/integration.js';
import { createLucia } from './auth/lucia.js';
import type { Config } from './config.js';
import { acquireSequelize } from './db.js';
import { answerClientErrors, nodeRequestListener } from './http/node-listener.js';
import { poolDb, sequelizeDb } from './data/db.js';
import { resilientPool } from './data/dedicated-connections.js';
import { startRealtime, type Realtime } from './realtime/index.js';
import { startSegmentReconcile } from './services/segments/reconcile.js';
import { startRollupMaintenance } from './services/analytics/maintenance.js';
import { configurePhones } from './services/customers/phones.js';
import { startBulkRunner } from './services/bulk/index.js';
import { ImportRunner } from './services/integrations/import/runner.js';
import { DemoActivity, type DemoActivityOptions } from './services/demo-activity.js';
import { startLoyaltySchedule } from './services/loyalty/schedule.js';
import { WebhookDispatcher } from './services/integrations/webhooks/dispatcher.js';
import { StorefrontInbox } from './services/integrations/storefront/inbox.js';
import { syncEnvironmentStores } from './services/integrations/storefront/stores.js';

export interface PulseOptions {
  config: Config;
  databaseUrl: string;
  logger: Logger;
  staticDir?: string;
  /** Run pending migrations before serving (default true). */
  migrate?: boolean;
  /**
   * Keep simulated shop activity going (the embedded demo only: `npm start` decides, see
   * server/index.ts). Absent: no demo activity, and the API says it is not available.
   */
  demoActivity?: DemoActivityOptions;
}

export interface RunningPulse {
  url: string;
  port: number;
  realtime: Realtime;
  close(): Promise<void>;
}

/**
 * Composition root: database -> HTTP server -> Hono app + Socket.IO -> change listener, and the
 * background jobs (analytics rollups).
 * `npm start` and the tests both start Pulse through here.
 */
export async function startPulse(opts: PulseOptions): Promise<RunningPulse> {
  const { config, logger } = opts;
  const { sequelize, release } = acquireSequelize(opts.databaseUrl);
  if (opts.migrate !== false) await migrateUp(sequelize);

  const auth = createLucia(config);
  // Storefront deliveries are applied on connections of their own; the routes only store them.
  const storefrontPool = resilientPool(opts.databaseUrl, 'pulse-storefront', 2, logger);
  const storefrontInbox = new StorefrontInbox({
    db: poolDb(storefrontPool),
    logger,
    pollMs: config.STORE_INBOX_POLL_MS,
    retryBaseMs: config.STORE_INBOX_RETRY_BASE_MS,
    maxAttempts: config.STORE_INBOX_MAX_ATTEMPTS
  });
  await syncEnvironmentStores(poolDb(storefrontPool), {
    shopify: config.SHOPIFY_WEBHOOK_SECRET,
    woocommerce: config.WOOCOMMERCE_WEBHOOK_SECRET
  });
  const demoActivity = opts.demoActivity && new DemoActivity(opts.databaseUrl, logger, opts.demoActivity);
  let realtime: Realtime | undefined;
  const bulk = startBulkRunner({
    databaseUrl: opts.databaseUrl,
    config,
    logger,
    notify: (userId, job) => realtime?.bulkProgress(userId, job)
  });
  const imports = new ImportRunner({
    databaseUrl: opts.databaseUrl,
    logger,
    pollMs: config.IMPORT_POLL_MS,
    batchSize: config.IMPORT_BATCH_SIZE,
    notify: (userId, job) => realtime?.importProgress(userId, job)
  });
  const app = createApp(
    {
      config,
      db: sequelizeDb(sequelize),
      auth,
      logger,
      listenerState: () => realtime?.listenerState() ?? 'stopped',
      demoActivity,
      bulk,
      storefrontInbox,
      imports,
      loyaltyPreview: (userId, job) => realtime?.loyaltyPreviewProgress(userId, job)
    },
    { staticDir: opts.staticDir }
  );
  const httpServer = createServer(nodeRequestListener(app.fetch, logger));
  answerClientErrors(httpServer);
  // Background work has its own connections: wallboard reconciles and rollup refreshes never
  // make a request or the change reader wait.
  const backgroundPool = resilientPool(opts.databaseUrl, 'pulse-background', 2, logger);
  const backgroundDb = poolDb(backgroundPool);
  await configurePhones(backgroundDb, config.DEFAULT_PHONE_REGION as CountryCode);
  realtime = await startRealtime({
    httpServer,
    config,
    databaseUrl: opts.databaseUrl,
    auth,
    logger,
    backgroundDb
  });
  const rollups = startRollupMaintenance({
    db: backgroundDb,
    timezone: config.STORE_TIMEZONE,
    logger,
    everyMs: config.ANALYTICS_REFRESH_SECONDS * 1000
  });
  // Pending points becoming available, expiry, birthday bonuses and tiers, on the background connections.
  const loyaltySchedule = startLoyaltySchedule({
    db: backgroundDb,
    logger,
    timezone: config.STORE_TIMEZONE,
    everyMs: config.LOYALTY_SCHEDULE_SECONDS * 1000
  });
  const segmentReconcile = startSegmentReconcile({
    db: backgroundDb,
    logger,
    everyMs: config.SEGMENT_RECONCILE_SECONDS * 1000
  });

  // Outbound webhooks read the change log with their own cursors, on connections of their own.
  const webhookPool = resilientPool(opts.databaseUrl, 'pulse-webhooks', 2, logger);
  const webhooks = new WebhookDispatcher({
    db: poolDb(webhookPool),
    logger,
    allowPrivate: config.WEBHOOKS_ALLOW_PRIVATE,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    pollMs: config.WEBHOOK_POLL_MS,
    maxConsecutiveFailures: config.WEBHOOK_MAX_CONSECUTIVE_FAILURES,
    retryHours: config.WEBHOOK_RETRY_HOURS,
    retryBaseMs: config.WEBHOOK_RETRY_BASE_MS
  });
  webhooks.start();
  if (config.INTEGRATION_TOKEN) logger.warn(INTEGRATION_TOKEN_DEPRECATION);

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.PORT, config.HOST, () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  demoActivity?.resume();
  bulk.start();
  storefrontInbox.start();
  imports.start();
  const shownHost = config.HOST === '0.0.0.0' || config.HOST === '127.0.0.1' ? 'localhost' : config.HOST;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    realtime,
    close: () =>
      (closing ??= (async () => {
        // Its last event commits (or fails) while the database is still there.
        await demoActivity?.close();
        await rollups.close();
        await loyaltySchedule.close();
        await segmentReconcile.close();
        // The batch in hand commits; unfinished jobs continue at the next start (here or elsewhere).
        await bulk.close();
        await imports.close();
        await webhooks.close();
        await webhookPool.end();
        // The delivery in hand commits; the rest waits in the inbox for the next start.
        await storefrontInbox.close();
        await storefrontPool.end();
        await realtime!.close();
        await backgroundPool.end();
        httpServer.closeAllConnections?.();
        await new Promise<void>((resolve) => httpServer.close(() => resolve()));
        await release();
      })())
  };
}
