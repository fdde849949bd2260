// npm run user:create -- --email ops@shop.com --name "Olive Ops" --role admin [--team "Returns"]
// Creates a real user for a deployment. The password is read from PULSE_PASSWORD or prompted
// for (never passed on the command line, where it would land in shell history).
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { migrateUp } from '../../db/migrate.js';
import { NewUserFields, PASSWORD_MIN_LENGTH } from '#shared/schemas/people.js';
import { hashPassword } from '../auth/password.js';
import { sequelizeDb, type Db } from '../data/db.js';
import { acquireSequelize } from '../db.js';

const Args = NewUserFields.pick({ email: true, role: true }).extend({
  name: NewUserFields.shape.name.optional(),
  team: z.string().trim().min(1).optional()
});

async function readPassword(): Promise<string> {
  if (process.env.PULSE_PASSWORD) return process.env.PULSE_PASSWORD;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const password = await rl.question('Password: ');
  rl.close();
  return password;
}

/** The team named exactly `name`, created when there is none. */
async function findOrCreateTeam(db: Db, name: string): Promise<{ id: number; name: string }> {
  const [found] = await db.query<{ id: number; name: string }>(`SELECT id, name FROM teams WHERE name = $1`, [
    name
  ]);
  if (found) return found;
  const [created] = await db.query<{ id: number; name: string }>(
    `INSERT INTO teams (name) VALUES ($1) RETURNING id, name`,
    [name]
  );
  return created;
}

async function main() {
  const { values } = parseArgs({
    options: {
      email: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string' },
      team: { type: 'string' }
    }
  });
  const parsed = Args.safeParse(values);
  if (!parsed.success) {
    console.error(
      'Usage: npm run user:create -- --email EMAIL --role agent|manager|admin [--name NAME] [--team TEAM]'
    );
    console.error(parsed.error.issues.map((i) => `  --${i.path.join('.')}: ${i.message}`).join('\n'));
    process.exit(2);
  }
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error('Set DATABASE_URL to the Postgres Pulse uses.');
    process.exit(2);
  }
  const args = parsed.data;
  if (args.role === 'agent' && !args.team) {
    console.error('An agent works a team queue: pass --team NAME.');
    process.exit(2);
  }
  const password = await readPassword();
  if (!NewUserFields.shape.password.safeParse(password).success) {
    console.error(`The password needs ${PASSWORD_MIN_LENGTH} to 1024 characters.`);
    process.exit(2);
  }
  const { sequelize, release } = acquireSequelize(url);
  try {
    await migrateUp(sequelize);
    const passwordHash = await hashPassword(password);
    const { user, team } = await sequelizeDb(sequelize).transaction(async (t) => {
      const team = args.team ? await findOrCreateTeam(t, args.team) : null;
      const [user] = await t.query<{ id: number; email: string; role: string }>(
        `INSERT INTO users (email, name, password_hash, role, team_id) VALUES ($1, $2, $3, $4::user_role, $5)
         RETURNING id, email, role`,
        [args.email, args.name ?? args.email.split('@')[0], passwordHash, args.role, team?.id ?? null]
      );
      return { user, team };
    });
    console.log(`Created ${user.role} ${user.email} (id ${user.id}${team ? `, team ${team.name}` : ''}).`);
  } catch (err) {
    const code = (err as { parent?: { code?: string } }).parent?.code;
    console.error(
      code === '23505'
        ? `A user with email ${args.email} already exists.`
        : `Could not create the user: ${(err as Error).message}`
    );
    process.exitCode = 1;
  } finally {
    await release();
  }
}

void main();
