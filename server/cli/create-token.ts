// npm run token:create -- --name "Shop sync" --scopes orders:read,customers:read [--user ops@shop.com] [--expires 2027-01-01T00:00:00Z]
// Creates an API token and prints its secret once, alone on the last line (only its hash is kept).
// The token acts as --user (default: the longest-serving active admin), narrowed to its scopes.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { migrateUp } from '../../db/migrate.js';
import { API_SCOPES, CreateApiTokenBody } from '#shared/schemas/integrations.js';
import { sequelizeDb } from '../data/db.js';
import { acquireSequelize } from '../db.js';
import { createApiToken } from '../services/integrations/api-tokens.js';

const Args = z.object({
  name: z.string(),
  scopes: z.string().transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)
  ),
  user: z.string().trim().toLowerCase().optional(),
  expires: z.string().optional()
});

async function main() {
  const { values } = parseArgs({
    options: {
      name: { type: 'string' },
      scopes: { type: 'string' },
      user: { type: 'string' },
      expires: { type: 'string' }
    }
  });
  const args = Args.safeParse(values);
  const body = args.success
    ? CreateApiTokenBody.safeParse({
        name: args.data.name,
        scopes: args.data.scopes,
        expiresAt: args.data.expires
      })
    : args;
  if (!args.success || !body.success) {
    console.error(
      'Usage: npm run token:create -- --name NAME --scopes a,b [--user EMAIL] [--expires ISO-DATE]'
    );
    console.error(`Scopes: ${API_SCOPES.join(', ')}`);
    console.error(
      (body.error?.issues ?? []).map((i) => `  ${i.path.join('.') || 'arguments'}: ${i.message}`).join('\n')
    );
    process.exit(2);
  }
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error('Set DATABASE_URL to the Postgres Pulse uses.');
    process.exit(2);
  }
  const { sequelize, release } = acquireSequelize(url);
  try {
    await migrateUp(sequelize);
    const db = sequelizeDb(sequelize);
    const [owner] = await db.query<{ id: number; email: string }>(
      args.data.user
        ? `SELECT id, email FROM users WHERE email = $1 AND active`
        : `SELECT id, email FROM users WHERE role = 'admin' AND active ORDER BY created_at, id LIMIT 1`,
      args.data.user ? [args.data.user] : []
    );
    if (!owner) {
      console.error(
        args.data.user ? `No active user ${args.data.user}.` : 'No active admin: pass --user EMAIL.'
      );
      process.exitCode = 1;
      return;
    }
    const created = await createApiToken(db, null, { ...body.data!, ownerId: owner.id });
    console.error(
      `Created API token "${created.token.name}" (id ${created.token.id}) acting as ${owner.email} with ${created.token.scopes.join(', ')}. It is shown once:`
    );
    console.log(created.secret);
  } catch (err) {
    console.error(`Could not create the token: ${(err as Error).message}`);
    process.exitCode = 1;
  } finally {
    await release();
  }
}

void main();
