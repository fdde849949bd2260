// npm run db:migrate [-- up | down | down --to 0 | status]
import { parseArgs } from 'node:util';
import { createSequelize } from '../server/db.js';
import { migrator } from './migrate.js';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { to: { type: 'string' } } });
const url = process.env.DATABASE_URL;
if (!url) {
  console.error('Set DATABASE_URL to the Postgres to migrate.');
  process.exit(2);
}
const sequelize = createSequelize(url, { poolMax: 1 });
const umzug = migrator(sequelize);
const command = positionals[0] ?? 'up';
try {
  if (command === 'up') {
    const done = await umzug.up();
    console.log(done.length ? `Applied: ${done.map((m) => m.name).join(', ')}` : 'Up to date.');
  } else if (command === 'down') {
    const done = values.to === '0' ? await umzug.down({ to: 0 }) : await umzug.down();
    console.log(done.length ? `Reverted: ${done.map((m) => m.name).join(', ')}` : 'Nothing to revert.');
  } else if (command === 'status') {
    console.log(
      'Applied:',
      (await umzug.executed()).map((m) => m.name)
    );
    console.log(
      'Pending:',
      (await umzug.pending()).map((m) => m.name)
    );
  } else {
    console.error(`Unknown command ${command}: use up, down [--to 0] or status.`);
    process.exitCode = 2;
  }
} finally {
  await sequelize.close();
}
