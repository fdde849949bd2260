import type pg from 'pg';
import { hashPassword } from '../../server/auth/password.js';

export const PASSWORD = 'correct horse battery';
let passwordHash: Promise<string> | undefined;
const hashed = () => (passwordHash ??= hashPassword(PASSWORD));

export interface TestUser {
  id: number;
  email: string;
  role: 'agent' | 'manager' | 'admin';
  teamId: number | null;
}

export async function createTeam(sql: pg.Pool, name: string): Promise<number> {
  const { rows } = await sql.query<{ id: number }>(`INSERT INTO teams (name) VALUES ($1) RETURNING id`, [
    name
  ]);
  return rows[0].id;
}

export async function createUser(
  sql: pg.Pool,
  user: { email: string; role: TestUser['role']; teamId?: number | null; name?: string; active?: boolean }
): Promise<TestUser> {
  const { rows } = await sql.query<{ id: number }>(
    `INSERT INTO users (email, name, password_hash, role, team_id, active) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [
      user.email,
      user.name ?? user.email.split('@')[0],
      await hashed(),
      user.role,
      user.teamId ?? null,
      user.active ?? true
    ]
  );
  return { id: rows[0].id, email: user.email, role: user.role, teamId: user.teamId ?? null };
}

export async function createCustomer(sql: pg.Pool, email: string, firstName = 'Casey'): Promise<number> {
  const { rows } = await sql.query<{ id: number }>(
    `INSERT INTO customers (email, first_name, last_name) VALUES ($1, $2, 'Tester') RETURNING id`,
    [email, firstName]
  );
  return rows[0].id;
}

export async function createTicket(
  sql: pg.Pool,
  t: { customerId: number; teamId: number; subject?: string }
): Promise<number> {
  const { rows } = await sql.query<{ id: number }>(
    `INSERT INTO tickets (customer_id, team_id, subject) VALUES ($1, $2, $3) RETURNING id`,
    [t.customerId, t.teamId, t.subject ?? 'Where is my parcel?']
  );
  return rows[0].id;
}

/** A pool or one client of it (inside a transaction the test holds open). */
type Queryable = Pick<pg.Pool, 'query'>;

/**
 * An order, written as a shop would (plain SQL). Columns not given keep the table's defaults
 * (status `pending`, no external id).
 */
export async function createOrder(
  sql: Queryable,
  o: { customerId: number; total: number | string; status?: string; externalId?: string }
): Promise<number> {
  const columns: Record<string, unknown> = { customer_id: o.customerId, total: o.total };
  if (o.status !== undefined) columns.status = o.status;
  if (o.externalId !== undefined) columns.external_id = o.externalId;
  const names = Object.keys(columns);
  const { rows } = await sql.query<{ id: number }>(
    `INSERT INTO orders (${names.join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id`,
    Object.values(columns)
  );
  return rows[0].id;
}

export async function createLoyaltyAccount(sql: Queryable, customerId: number): Promise<number> {
  const { rows } = await sql.query<{ id: number }>(
    `INSERT INTO loyalty_accounts (customer_id) VALUES ($1) RETURNING id`,
    [customerId]
  );
  return rows[0].id;
}

/** An `earn` entry in the loyalty ledger (the account's balance follows by trigger). */
export async function earnPoints(
  sql: Queryable,
  e: { accountId: number; points: number; reason: string; key: string; orderId?: number }
): Promise<number> {
  const { rows } = await sql.query<{ id: number }>(
    `INSERT INTO loyalty_ledger (account_id, kind, points, reason, order_id, idempotency_key) VALUES ($1, 'earn', $2, $3, $4, $5) RETURNING id`,
    [e.accountId, e.points, e.reason, e.orderId ?? null, e.key]
  );
  return rows[0].id;
}

/** A small world: two teams, an agent in each, a manager, an admin, a customer. */
export async function createWorld(sql: pg.Pool) {
  const teamA = await createTeam(sql, 'Team A');
  const teamB = await createTeam(sql, 'Team B');
  const agentA = await createUser(sql, {
    email: 'agent.a@test.dev',
    role: 'agent',
    teamId: teamA,
    name: 'Agent A'
  });
  const agentB = await createUser(sql, {
    email: 'agent.b@test.dev',
    role: 'agent',
    teamId: teamB,
    name: 'Agent B'
  });
  const manager = await createUser(sql, { email: 'manager@test.dev', role: 'manager', name: 'Manager M' });
  const admin = await createUser(sql, { email: 'admin@test.dev', role: 'admin', name: 'Admin Z' });
  const customerId = await createCustomer(sql, 'casey@example.com');
  return { teamA, teamB, agentA, agentB, manager, admin, customerId };
}
