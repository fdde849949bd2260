import path from 'node:path';
import { EmbeddedStartError, startEmbeddedPostgres, type EmbeddedDatabase } from '../db/embedded.js';
import { migrateDatabase } from '../db/migrate.js';
import { DEMO_PASSWORD, DEMO_USERS } from '../db/seed/demo-users.js';
import { seedIfEmpty } from '../db/seed/index.js';
import { loadConfig } from './config.js';
import { ensureFrontendBuilt } from './frontend-build.js';
import { createLogger } from './logger.js';
import { PROJECT_ROOT } from './project-root.js';
import { startPulse, type RunningPulse } from './pulse.js';
import { DEMO_INTERVAL_MS, holdsDemoData } from './services/demo-activity.js';

const root = PROJECT_ROOT;

/** `npm start`: embedded Postgres unless DATABASE_URL is set, demo data on first start, one port. */
async function main() {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const say = (msg: string) => process.stdout.write(`${msg}\n`);

  let embedded: EmbeddedDatabase | undefined;
  let pulse: RunningPulse | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    // Connections dropping from here on are expected (Ctrl-C also reaches Postgres itself).
    logger.level = 'error';
    say(`\n${signal}: stopping Pulse...`);
    await pulse?.close().catch((err) => logger.error({ err }, 'server close failed'));
    await embedded?.stop().catch((err) => logger.error({ err }, 'embedded Postgres stop failed'));
    say('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  let databaseUrl = config.DATABASE_URL;
  if (!databaseUrl) {
    const dir = path.resolve(root, config.DATA_DIR, 'postgres');
    say(
      `Starting embedded Postgres (data in ${path.relative(root, dir)}, port ${config.EMBEDDED_PG_PORT})...`
    );
    embedded = await startEmbeddedPostgres({
      dir,
      port: config.EMBEDDED_PG_PORT,
      log: (l) => logger.debug(l)
    });
    databaseUrl = embedded.url;
  }

  await migrateDatabase(databaseUrl);
  const seedWanted = config.SEED_DEMO_DATA ?? !!embedded;
  if (seedWanted && (await seedIfEmpty(databaseUrl, { log: say }))) say('Demo data generated.');

  // Simulated activity only ever writes into the demo: the Postgres Pulse started itself, holding
  // the generated demo data. Never into a database named by DATABASE_URL, seeded or not.
  const demoActivity = !!embedded && config.DEMO_ACTIVITY && (await holdsDemoData(databaseUrl, logger));

  if (config.SERVE_FRONTEND) ensureFrontendBuilt(root, say);
  // Migrated above, before seeding.
  pulse = await startPulse({
    config,
    databaseUrl,
    logger,
    migrate: false,
    staticDir: config.SERVE_FRONTEND ? path.join(root, 'build') : undefined,
    demoActivity: demoActivity ? {} : undefined
  });

  // Last resort, once Pulse is serving (a failure while starting must stop the start, not hang it). Socket handlers, timers and listener callbacks are guarded where they are bound
  // (server/realtime/safe-handler.ts); whatever still escapes is logged, and the server keeps
  // serving the screens that are open rather than dropping every one of them (docs/decisions.md).
  process.on('unhandledRejection', (err) => logger.fatal({ err }, 'unhandled rejection; carrying on'));
  process.on('uncaughtException', (err, origin) =>
    logger.fatal({ err, origin }, 'uncaught exception; carrying on')
  );

  say('');
  say(
    config.SERVE_FRONTEND
      ? `  Pulse is running at ${pulse.url}`
      : `  Pulse's API and Socket.IO are at ${pulse.url}; open the app at the Vite URL (npm run dev).`
  );
  say('');
  if (seedWanted) {
    say(`  Demo logins (password "${DEMO_PASSWORD}"):`);
    for (const u of DEMO_USERS.slice(0, 5)) say(`    ${u.role.padEnd(8)} ${u.email}`);
    say(`    ...and ${DEMO_USERS.length - 5} more agents (see README)`);
    say('');
  }
  if (demoActivity) {
    say(`  Demo activity: about ${Math.round(60_000 / DEMO_INTERVAL_MS)} simulated shop events a minute.`);
    say('  Pause it in the app (managers), or start with DEMO_ACTIVITY=off.');
    say('');
  }
  say('  Press Ctrl-C to stop.');
}

main().catch((err) => {
  // A reason the user can act on is said plainly; anything else with its stack.
  const inUse = err as NodeJS.ErrnoException & { port?: number };
  const why =
    err instanceof EmbeddedStartError
      ? err.message
      : inUse?.code === 'EADDRINUSE'
        ? `Port ${inUse.port} is already in use: another Pulse is probably running there. Stop it, or set PORT to a free port.`
        : err instanceof Error
          ? err.stack
          : String(err);
  process.stderr.write(`Pulse failed to start: ${why}\n`);
  process.exit(1);
});
