import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrateDatabase } from '../../db/migrate.js';
import { seedDemoData } from '../../db/seed/index.js';
import { hashPassword } from '../../server/auth/password.js';
import type { RunningPulse } from '../../server/pulse.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createOrder, createWorld } from '../support/fixtures.js';
import { closeSockets, openSocket, waitFor, type ClientSocket } from '../support/socket.js';
import { startTestServer } from '../support/server.js';

// Every change reaches the screens: a SQL session cannot silence the live path by setting
// pulse.capture or by shadowing change_log. Only pause_capture(), a privilege of the schema's
// owner (the demo seed uses it), keeps a transaction out of the change log.

let db: TestDatabase;
let server: RunningPulse;
let world: Awaited<ReturnType<typeof createWorld>>;
let manager: ClientSocket;
/** Roles this file created (roles belong to the whole cluster, so they are dropped at the end). */
const roles: string[] = [];
const others: TestDatabase[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  server = await startTestServer(db.url);
  manager = await openSocket(server.url, world.manager.email);
});
afterAll(async () => {
  closeSockets();
  await server?.close();
  for (const other of others) await other.drop();
  await db?.drop();
  const admin = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await admin.connect();
  for (const role of roles) await admin.query(`DROP ROLE IF EXISTS ${role}`);
  await admin.end();
});

async function newRole(options: string): Promise<string> {
  const role = `pulse_test_${randomBytes(5).toString('hex')}`;
  await db.sql.query(`CREATE ROLE ${role} ${options}`);
  roles.push(role);
  return role;
}

/** Runs `work` on a new connection to `url` (a psql session, say), closed afterwards. */
async function inSession<T>(work: (session: pg.Client) => Promise<T>, url = db.url): Promise<T> {
  const session = new pg.Client({ connectionString: url });
  await session.connect();
  try {
    return await work(session);
  } finally {
    await session.end();
  }
}

const captured = async (sql: pg.Pool | pg.Client, orderId: number) =>
  (
    await sql.query(`SELECT op FROM change_log WHERE topic = 'order' AND entity_id = $1 ORDER BY id`, [
      orderId
    ])
  ).rows.map((r) => r.op);

describe('a session that sets pulse.capture', () => {
  it("still has its orders captured and delivered with SET pulse.capture = 'off'", async () => {
    const orderId = await inSession(async (session) => {
      await session.query(`SET pulse.capture = 'off'`);
      const id = await createOrder(session, { customerId: world.customerId, total: 42 });
      await session.query(`UPDATE orders SET status = 'paid' WHERE id = $1`, [id]);
      return id;
    });
    await waitFor(manager, 'order:created', (e) => e.data.id === orderId);
    expect((await waitFor(manager, 'order:updated', (e) => e.data.id === orderId)).data.status).toBe('paid');
    expect(await captured(db.sql, orderId)).toEqual(['insert', 'update']);
  });

  it("still has them captured and delivered with SET LOCAL pulse.capture = 'off'", async () => {
    const orderId = await inSession(async (session) => {
      await session.query('BEGIN');
      await session.query(`SET LOCAL pulse.capture = 'off'`);
      const id = await createOrder(session, { customerId: world.customerId, total: 43 });
      await session.query('COMMIT');
      return id;
    });
    await waitFor(manager, 'order:created', (e) => e.data.id === orderId);
    expect(await captured(db.sql, orderId)).toEqual(['insert']);
  });

  it('still has them captured and delivered when it has a temporary table called change_log', async () => {
    const orderId = await inSession(async (session) => {
      await session.query(`CREATE TEMPORARY TABLE change_log (LIKE public.change_log INCLUDING DEFAULTS)`);
      const id = await createOrder(session, { customerId: world.customerId, total: 44 });
      expect((await session.query(`SELECT count(*)::int AS n FROM pg_temp.change_log`)).rows).toEqual([
        { n: 0 }
      ]);
      return id;
    });
    await waitFor(manager, 'order:created', (e) => e.data.id === orderId);
    expect(await captured(db.sql, orderId)).toEqual(['insert']);
  });

  it('may not pause capture unless it was granted pause_capture(), even with every right on the tables', async () => {
    // An application role with every right on the data, but not the owner of the schema.
    const app = await newRole('NOLOGIN');
    await db.sql.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${app}`);
    await db.sql.query(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${app}`);
    const asApp = async <T>(session: pg.Client, work: () => Promise<T>) => {
      await session.query('BEGIN');
      await session.query(`SET LOCAL ROLE ${app}`);
      try {
        const result = await work();
        await session.query('COMMIT');
        return result;
      } catch (error) {
        await session.query('ROLLBACK');
        throw error;
      }
    };
    const orderId = await inSession(async (session) => {
      await expect(asApp(session, () => session.query(`SELECT pause_capture()`))).rejects.toMatchObject({
        code: '42501'
      });
      await expect(
        asApp(session, () => session.query(`INSERT INTO capture_pauses VALUES (pg_current_xact_id())`))
      ).rejects.toMatchObject({ code: '42501' });
      return asApp(session, async () => {
        await session.query(`SET LOCAL pulse.capture = 'off'`);
        return createOrder(session, { customerId: world.customerId, total: 45 });
      });
    });
    await waitFor(manager, 'order:created', (e) => e.data.id === orderId);
    expect(await captured(db.sql, orderId)).toEqual(['insert']);

    // Granted, it may.
    await db.sql.query(`GRANT EXECUTE ON FUNCTION pause_capture() TO ${app}`);
    const quiet = await inSession((session) =>
      asApp(session, async () => {
        await session.query(`SELECT pause_capture()`);
        return createOrder(session, { customerId: world.customerId, total: 46 });
      })
    );
    expect(await captured(db.sql, quiet)).toEqual([]);
  });
});

describe('a schema owner that is not a superuser', () => {
  it(
    'migrates and seeds a database without filling the change log, and its own writes are captured',
    { timeout: 60_000 },
    async () => {
      const password = randomBytes(8).toString('hex');
      const owner = await newRole(`LOGIN PASSWORD '${password}' NOSUPERUSER NOCREATEDB NOCREATEROLE`);
      const other = await createTestDatabase({ empty: true });
      others.push(other);
      const name = new URL(other.url).pathname.slice(1);
      await db.sql.query(`ALTER DATABASE ${name} OWNER TO ${owner}`);
      const url = new URL(other.url);
      url.username = owner;
      url.password = password;

      await migrateDatabase(url.toString());
      await seedDemoData(url.toString(), {
        customers: 40,
        now: new Date('2026-06-15T00:00:00Z'),
        passwordHash: await hashPassword('pulse-demo')
      });
      await inSession(async (session) => {
        expect(
          (await session.query(`SELECT rolsuper FROM pg_roles WHERE rolname = current_user`)).rows
        ).toEqual([{ rolsuper: false }]);
        expect((await session.query(`SELECT count(*)::int AS n FROM orders`)).rows[0].n).toBeGreaterThan(0);
        expect((await session.query(`SELECT count(*)::int AS n FROM change_log`)).rows).toEqual([{ n: 0 }]);
        await session.query(`SET pulse.capture = 'off'`);
        const customer = (await session.query(`SELECT min(id) AS id FROM customers`)).rows[0].id;
        const orderId = await createOrder(session, { customerId: customer, total: 10 });
        expect(await captured(session, orderId)).toEqual(['insert']);
      }, url.toString());
    }
  );
});
