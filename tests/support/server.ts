import path from 'node:path';
import pino from 'pino';
import { loadConfig, type Config } from '../../server/config.js';
import { startPulse, type RunningPulse } from '../../server/pulse.js';
import type { DemoActivityOptions } from '../../server/services/demo-activity.js';

/** A real Pulse server on an ephemeral port against the given database. */
export async function startTestServer(
  databaseUrl: string,
  overrides: Partial<Record<keyof Config, string>> = {},
  opts: { serveFrontend?: boolean; demoActivity?: DemoActivityOptions } = {}
): Promise<RunningPulse> {
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    ...overrides
  });
  const staticDir = opts.serveFrontend ? path.resolve(import.meta.dirname, '../../build') : undefined;
  return startPulse({
    config,
    databaseUrl,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    staticDir,
    demoActivity: opts.demoActivity
  });
}
