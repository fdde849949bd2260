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

/**
 * One Postgres for the whole run: embedded (a throwaway cluster) unless TEST_DATABASE_URL names
 * a server to use. Migrations are applied once to a template database.
 */
export default async function setup(project: TestProject) {
  let adminUrl: string;
  let stop = async () => undefined as void;
  if (process.env.TEST_DATABASE_URL) {
    adminUrl = withDatabase(process.env.TEST_DATABASE_URL, 'postgres');
  } else {
    const db = await startThrowawayPostgres({ prefix: 'pulse-test-pg-', fast: true });
    adminUrl = withDatabase(db.url, 'postgres');
    stop = db.stop;
  }

  const template = `pulse_template_${project.name.replace(/\W/g, '_')}_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${template}`);
  await admin.query(`CREATE DATABASE ${template}`);
  await admin.end();
  await migrateDatabase(withDatabase(adminUrl, template));

  project.provide('pgAdminUrl', adminUrl);
  project.provide('pgTemplate', template);

  return async () => {
    const cleanup = new pg.Client({ connectionString: adminUrl });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`).catch(() => undefined);
    await cleanup.end();
    await stop();
  };
}
