import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import type { Sequelize } from 'sequelize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrator } from '../../db/migrate.js';
import { createSequelize } from '../../server/db.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

// Runs the real migrations against a database created empty (not from the migrated template),
// all the way up, down step by step and up again.

const migrationsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../db/migrations');
let db: TestDatabase;
let sequelize: Sequelize;
let umzug: ReturnType<typeof migrator>;
let sql: pg.Pool;
let migrationNames: string[];

beforeAll(async () => {
  db = await createTestDatabase({ empty: true });
  sequelize = createSequelize(db.url, { poolMax: 1 });
  umzug = migrator(sequelize);
  sql = db.sql;
  migrationNames = (await readdir(migrationsDir))
    .filter((f) => f.endsWith('.up.sql'))
    .map((f) => f.replace(/\.up\.sql$/, ''))
    .sort();
});

afterAll(async () => {
  await sequelize?.close();
  await db?.drop();
});

const column = async <T = string>(query: string, params: unknown[] = []) =>
  (await sql.query(query, params)).rows.map((r) => Object.values(r)[0] as T);

const tables = () => column(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`);
/** Enums, domains, ranges and free-standing composite types; not tables' row types or arrays. */
const customTypes = () =>
  column(`SELECT t.typname FROM pg_type t
            JOIN pg_namespace n ON n.oid = t.typnamespace
            LEFT JOIN pg_class c ON c.oid = t.typrelid
           WHERE n.nspname = 'public' AND t.typcategory <> 'A' AND (t.typrelid = 0 OR c.relkind = 'c')
           ORDER BY t.typname`);
const functions = () =>
  column(`SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'public' ORDER BY p.proname`);
const triggers = () =>
  column(`SELECT c.relname || '.' || t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND NOT t.tgisinternal ORDER BY 1`);
const executed = async () => (await umzug.executed()).map((m) => m.name);

/**
 * Everything the migrations can create, by name and definition (never by oid), so two schemas
 * built the same way compare equal and any leftover or missing object shows in the diff.
 */
async function schemaFingerprint() {
  return {
    relations:
      await column(`SELECT c.relkind::text || ' ' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                              WHERE n.nspname = 'public' ORDER BY c.relname`),
    columns:
      await column(`SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' ||
                                  coalesce(column_default, '') || ' ' || coalesce(generation_expression, '')
                             FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`),
    indexes: await column(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname`),
    constraints:
      await column(`SELECT c.conrelid::regclass || ' ' || c.conname || ' ' || pg_get_constraintdef(c.oid)
                                 FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
                                WHERE n.nspname = 'public' ORDER BY 1`),
    triggers:
      await column(`SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                              JOIN pg_namespace n ON n.oid = c.relnamespace
                             WHERE n.nspname = 'public' AND NOT t.tgisinternal ORDER BY 1`),
    types:
      await column(`SELECT t.typname || ' ' || coalesce(string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder), '')
                           FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                           LEFT JOIN pg_class c ON c.oid = t.typrelid
                           LEFT JOIN pg_enum e ON e.enumtypid = t.oid
                          WHERE n.nspname = 'public' AND t.typcategory <> 'A' AND (t.typrelid = 0 OR c.relkind = 'c')
                          GROUP BY t.typname ORDER BY 1`),
    functions:
      await column(`SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') ' || md5(pg_get_functiondef(p.oid))
                               FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                              WHERE n.nspname = 'public' ORDER BY 1`)
  };
}
type Fingerprint = Awaited<ReturnType<typeof schemaFingerprint>>;

/** The schema after 0, 1, 2, ... migrations, as built by the first climb. */
const afterStep: Fingerprint[] = [];

describe('migrations up and down', () => {
  it('applies every migration, one at a time, to an empty database', async () => {
    expect(migrationNames.length).toBeGreaterThanOrEqual(3);
    expect(await executed()).toEqual([]);
    expect(await tables()).toEqual(['schema_migrations']);
    afterStep.push(await schemaFingerprint());

    for (const expected of migrationNames) {
      const applied = await umzug.up({ step: 1 });
      expect(applied.map((m) => m.name)).toEqual([expected]);
      afterStep.push(await schemaFingerprint());
      // Each migration creates something, so the steps below compare real schemas.
      expect(afterStep.at(-1)).not.toEqual(afterStep.at(-2));
    }
    expect(await executed()).toEqual(migrationNames);
    expect(await umzug.pending()).toEqual([]);
  });

  it('creates the tables, enums, functions and triggers the app relies on', async () => {
    expect(await tables()).toEqual(
      expect.arrayContaining([
        'audit_log',
        'categories',
        'change_log',
        'change_log_retention',
        'customers',
        'loyalty_accounts',
        'loyalty_ledger',
        'order_items',
        'orders',
        'products',
        'reviews',
        'schema_migrations',
        'sessions',
        'socket_io_attachments',
        'teams',
        'ticket_messages',
        'tickets',
        'users',
        'sla_policies',
        'canned_responses'
      ])
    );
    expect(await customTypes()).toEqual(
      expect.arrayContaining([
        'loyalty_entry_kind',
        'loyalty_tier',
        'message_author',
        'order_status',
        'sales_channel',
        'ticket_channel',
        'ticket_priority',
        'ticket_status',
        'user_role',
        'agent_status'
      ])
    );
    expect(await column(`SELECT enum_range(NULL::order_status)::text`)).toEqual([
      '{pending,paid,fulfilled,shipped,delivered,cancelled,refunded}'
    ]);
    expect(await functions()).toEqual(
      expect.arrayContaining([
        'capture_access_change',
        'capture_change',
        'end_sessions_of_deactivated_user',
        'forbid_changes',
        'loyalty_apply_entry',
        'loyalty_guard_account',
        'loyalty_tier_for',
        'refuse_session_of_inactive_user',
        'ring_doorbell',
        'touch_updated_at',
        'pick_agent',
        'ticket_sla_due'
      ])
    );
    expect(await triggers()).toEqual(
      expect.arrayContaining([
        'audit_log.audit_log_append_only',
        'audit_log.audit_log_no_truncate',
        'change_log.change_log_doorbell',
        'loyalty_ledger.loyalty_ledger_append_only',
        'loyalty_ledger.loyalty_ledger_apply',
        'users.users_deactivated',
        ...[
          'orders',
          'order_items',
          'tickets',
          'ticket_messages',
          'loyalty_ledger',
          'loyalty_accounts',
          'customers',
          'sessions',
          'users'
        ].map((t) => `${t}.${t}_capture`),
        ...['users', 'customers', 'products', 'orders', 'tickets', 'loyalty_accounts'].map(
          (t) => `${t}.${t}_touch`
        )
      ])
    );
  });

  it('indexes orders by customer and by date and status', async () => {
    const { rows } = await sql.query(
      `SELECT indexname, tablename, indexdef FROM pg_indexes
        WHERE schemaname = 'public' AND indexname IN ('idx_customer_id', 'idx_order_date_status') ORDER BY indexname`
    );
    expect(rows).toEqual([
      {
        indexname: 'idx_customer_id',
        tablename: 'orders',
        indexdef: expect.stringMatching(/ON public\.orders USING btree \(customer_id\)$/)
      },
      {
        indexname: 'idx_order_date_status',
        tablename: 'orders',
        indexdef: expect.stringMatching(/ON public\.orders USING btree \(order_date, status\)$/)
      }
    ]);
  });

  it("reverts only the latest migration's objects when going down one step", async () => {
    const [latest] = migrationNames.slice(-1);
    const reverted = await umzug.down();
    expect(reverted.map((m) => m.name)).toEqual([latest]);
    expect(await executed()).toEqual(migrationNames.slice(0, -1));

    const left = await tables();
    expect(left).toEqual(
      expect.arrayContaining(['orders', 'customers', 'change_log', 'change_log_retention'])
    );
    expect(await schemaFingerprint()).toEqual(afterStep[migrationNames.length - 1]);

    await umzug.up();
    expect(await schemaFingerprint()).toEqual(afterStep[migrationNames.length]);
  });

  it('goes down step by step to zero, each step restoring the schema as it was before its up', async () => {
    for (let applied = migrationNames.length; applied > 0; applied--) {
      const reverted = await umzug.down();
      expect(reverted.map((m) => m.name)).toEqual([migrationNames[applied - 1]]);
      expect(await executed()).toEqual(migrationNames.slice(0, applied - 1));
      expect(await schemaFingerprint()).toEqual(afterStep[applied - 1]);
      if (migrationNames[applied - 1].endsWith('-change-log')) {
        // The change log is gone, and with it the capture triggers on the core tables that remain.
        expect(await tables()).not.toContain('change_log');
        expect(await tables()).toContain('orders');
        expect(await triggers()).not.toContain('orders.orders_capture');
        expect(await functions()).not.toContain('capture_change');
      }
    }

    expect(await tables()).toEqual(['schema_migrations']);
    expect(await customTypes()).toEqual([]);
    expect(await functions()).toEqual([]);
    expect(await triggers()).toEqual([]);
    expect(
      await column(`SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') ORDER BY 1`)
    ).toEqual(['schema_migrations']);
  });

  it('comes back up to the same schema, and a second up has nothing to do', async () => {
    const applied = await umzug.up();
    expect(applied.map((m) => m.name)).toEqual(migrationNames);
    expect(await schemaFingerprint()).toEqual(afterStep[migrationNames.length]);
    expect(await umzug.up()).toEqual([]);
    expect(await schemaFingerprint()).toEqual(afterStep[migrationNames.length]);
  });

  it('works after the round trip: rules still refuse bad data and changes are still captured', async () => {
    const customer = (
      await sql.query(
        `INSERT INTO customers (email, first_name) VALUES ('round@trip.dev', 'Round') RETURNING id`
      )
    ).rows[0].id;
    await expect(
      sql.query(`INSERT INTO orders (customer_id, total) VALUES ($1, -1)`, [customer])
    ).rejects.toMatchObject({
      code: '23514',
      constraint: 'orders_total_check'
    });
    const order = (
      await sql.query(`INSERT INTO orders (customer_id, total) VALUES ($1, 5) RETURNING id`, [customer])
    ).rows[0].id;
    const { rows } = await sql.query(
      `SELECT topic, op, entity_id::int AS entity_id FROM change_log WHERE topic = 'order'`
    );
    expect(rows).toEqual([{ topic: 'order', op: 'insert', entity_id: order }]);
    await expect(sql.query(`DELETE FROM customers WHERE id = $1`, [customer])).rejects.toMatchObject({
      code: '23503'
    });
  });
});
