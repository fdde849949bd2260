import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrateDatabase } from '../../db/migrate.js';
import { startThrowawayPostgres, withDatabase } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A connection URL whose user may create databases (the server's maintenance database). */
    pgAdminUrl: string;
    /** Name of the migrated template database each test file copies. */
    pgTemplate: string;
  }
}

interface RunDatabase {
  adminUrl: string;
  template: string;
  stop(): Promise<void>;
}

/**
 * One Postgres for the whole run: embedded (a throwaway cluster) unless TEST_DATABASE_URL names
 * a server to use. Migrations are applied once to a template database.
 */
async function startRunDatabase(): Promise<RunDatabase> {
  let adminUrl: string;
  let stop = async () => undefined as void;
  if (process.env.TEST_DATABASE_URL) {
    adminUrl = withDatabase(process.env.TEST_DATABASE_URL, 'postgres');
  } else {
    const db = await startThrowawayPostgres({ prefix: 'pulse-test-pg-', fast: true });
    adminUrl = withDatabase(db.url, 'postgres');
    stop = db.stop;
  }

  const template = `pulse_template_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${template}`);
  await admin.query(`CREATE DATABASE ${template}`);
  await admin.end();
  await migrateDatabase(withDatabase(adminUrl, template));

  return {
    adminUrl,
    template,
    stop: async () => {
      const cleanup = new pg.Client({ connectionString: adminUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`).catch(() => undefined);
      await cleanup.end();
      await stop();
    }
  };
}

// Vitest runs each project's global setup in its own module instance, in one process: the
// projects (integration, e2e) share the run's database through the process, and the last one
// to finish stops it. One cluster and one migration instead of one per project.
const SHARED = Symbol.for('pulse.tests.runDatabase');
type Shared = { started: Promise<RunDatabase>; users: number };
const holder = globalThis as { [SHARED]?: Shared };

export default async function setup(project: TestProject) {
  const shared = (holder[SHARED] ??= { started: startRunDatabase(), users: 0 });
  shared.users += 1;
  const { adminUrl, template, stop } = await shared.started;
  project.provide('pgAdminUrl', adminUrl);
  project.provide('pgTemplate', template);

  return async () => {
    shared.users -= 1;
    if (shared.users > 0) return;
    delete holder[SHARED];
    await stop();
  };
}
