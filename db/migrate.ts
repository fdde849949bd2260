import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Sequelize } from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';
import { PROJECT_ROOT } from '../server/project-root.js';

const migrationsDir = path.join(PROJECT_ROOT, 'db', 'migrations');

/**
 * Migrations are pairs of SQL files, `<timestamp>-<name>.up.sql` and `.down.sql`, applied in a
 * transaction each. The applied ones are recorded in `schema_migrations`.
 */
export function migrator(sequelize: Sequelize) {
  return new Umzug({
    migrations: {
      glob: ['*.up.sql', { cwd: migrationsDir }],
      resolve: ({ name, path: upPath }) => {
        const id = name.replace(/\.up\.sql$/, '');
        const run = (file: string) => async () => {
          const sql = await readFile(file, 'utf8');
          await sequelize.transaction(async (transaction) => {
            await sequelize.query(sql, { transaction });
          });
        };
        return { name: id, up: run(upPath!), down: run(upPath!.replace(/\.up\.sql$/, '.down.sql')) };
      }
    },
    storage: new SequelizeStorage({ sequelize, tableName: 'schema_migrations' }),
    logger: undefined
  });
}

export async function migrateUp(sequelize: Sequelize): Promise<string[]> {
  const done = await migrator(sequelize).up();
  return done.map((m) => m.name);
}

/** Opens a short-lived connection, applies pending migrations, closes it. */
export async function migrateDatabase(url: string): Promise<string[]> {
  const { createSequelize } = await import('../server/db.js');
  const sequelize = createSequelize(url, { poolMax: 1 });
  try {
    return await migrateUp(sequelize);
  } finally {
    await sequelize.close();
  }
}
