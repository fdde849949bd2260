import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createCustomer, createLoyaltyAccount, createOrder, createTeam, createTicket, createUser, createWorld } from '../support/fixtures.js';

// Every rule the database enforces, checked from the outside: a bad write fails with the
// SQLSTATE a client would see and leaves the table exactly as it was; a good write next to it
// shows the rule is not simply refusing everything.

let db: TestDatabase;
let world: Awaited<ReturnType<typeof createWorld>>;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
});
afterAll(async () => {
  await db?.drop();
});

/** The database only checks the prefix; a real hash would cost argon2 time for nothing. */
const ARGON2ID_HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA';

let seq = 0;
const unique = (prefix: string) => `${prefix}${++seq}`;

/** Row count and a digest of every row, so an UPDATE that slipped through shows too. */
async function snapshot(tables: string[]) {
  const out: Record<string, { rows: number; digest: string }> = {};
  for (const table of tables) {
    const { rows } = await db.sql.query(
      `SELECT count(*)::int AS rows, coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') AS digest FROM ${table} t`
    );
    out[table] = rows[0];
  }
  return out;
}

async function failureOf(statement: string, params: unknown[] = [], client: pg.Pool | pg.PoolClient = db.sql) {
  return client.query(statement, params).then(
    () => undefined,
    (error: unknown) => error as pg.DatabaseError
  );
}

/**
 * Runs `statement`, expects it to fail with `sqlstate` (and, when given, the named constraint),
 * and checks that `tables` hold exactly the rows they held before.
 */
async function expectRejected(
  tables: string | string[],
  statement: string,
  params: unknown[],
  sqlstate: string,
  constraint?: string
) {
  const list = Array.isArray(tables) ? tables : [tables];
  const before = await snapshot(list);
  const error = await failureOf(statement, params);
  expect(error, `expected SQLSTATE ${sqlstate} from: ${statement}`).toBeInstanceOf(pg.DatabaseError);
  expect({ code: error!.code, constraint: error!.constraint }).toEqual({
    code: sqlstate,
    constraint: constraint ?? error!.constraint
  });
  expect(await snapshot(list)).toEqual(before);
}

async function one<T = any>(statement: string, params: unknown[] = []): Promise<T> {
  const { rows } = await db.sql.query(statement, params);
  return rows[0] as T;
}

const insertUser = `INSERT INTO users (email, name, password_hash, role, team_id) VALUES ($1, $2, $3, $4, $5) RETURNING id`;
const insertCustomer = (columns: string) =>
  `INSERT INTO customers (email, first_name, ${columns}) VALUES ($1, 'Casey', $2) RETURNING id`;

async function insertProduct(opts: { sku?: string; price?: number; stock?: number } = {}): Promise<number> {
  const row = await one<{ id: number }>(`INSERT INTO products (sku, name, price, stock) VALUES ($1, 'Widget', $2, $3) RETURNING id`, [
    opts.sku ?? unique('SKU-'),
    opts.price ?? 10,
    opts.stock ?? 5
  ]);
  return row.id;
}

const insertOrder = (customerId: number, total = 25) => createOrder(db.sql, { customerId, total });

describe('teams', () => {
  it('refuses a second team whose name differs only in case', async () => {
    await expectRejected('teams', `INSERT INTO teams (name) VALUES ($1)`, ['team a'], '23505', 'teams_name_key');
    await expectRejected('teams', `INSERT INTO teams (name) VALUES ($1)`, ['TEAM A'], '23505', 'teams_name_key');
    await expect(createTeam(db.sql, 'Team A2')).resolves.toBeGreaterThan(0);
  });

  it('refuses a second team whose name differs only in surrounding spaces', async () => {
    await expectRejected('teams', `INSERT INTO teams (name) VALUES ($1)`, ['Team A '], '23505', 'teams_name_key');
  });

  it('refuses a blank team name', async () => {
    await expectRejected('teams', `INSERT INTO teams (name) VALUES ($1)`, ['   '], '23514', 'teams_name_check');
    await expectRejected('teams', `INSERT INTO teams (name) VALUES ($1)`, ['\n\t'], '23514', 'teams_name_check');
    await expectRejected('teams', `INSERT INTO teams (name) VALUES (NULL)`, [], '23502');
  });
});

describe('users', () => {
  it('stores emails lower-case and trimmed only', async () => {
    await expectRejected('users', insertUser, ['Mixed.Case@test.dev', 'Mixed', ARGON2ID_HASH, 'manager', null], '23514', 'users_email_check');
    await expectRejected('users', insertUser, [' padded@test.dev', 'Padded', ARGON2ID_HASH, 'manager', null], '23514', 'users_email_check');
    await expect(db.sql.query(insertUser, ['mixed.case@test.dev', 'Mixed', ARGON2ID_HASH, 'manager', null])).resolves.toBeTruthy();
  });

  it('refuses an email that is not an address', async () => {
    for (const email of ['no-at-sign.test.dev', 'two words@test.dev', '@test.dev', 'user@']) {
      await expectRejected('users', insertUser, [email, 'Bad', ARGON2ID_HASH, 'manager', null], '23514', 'users_email_check');
    }
  });

  it('refuses a second account with the same email', async () => {
    await expectRejected('users', insertUser, [world.agentA.email, 'Twin', ARGON2ID_HASH, 'agent', world.teamA], '23505', 'users_email_key');
  });

  it('refuses an agent without a team, on insert and on update', async () => {
    await expectRejected('users', insertUser, ['lonely.agent@test.dev', 'Lonely', ARGON2ID_HASH, 'agent', null], '23514', 'users_agent_has_team');
    await expectRejected('users', `UPDATE users SET team_id = NULL WHERE id = $1`, [world.agentA.id], '23514', 'users_agent_has_team');
    await expectRejected('users', `UPDATE users SET role = 'agent' WHERE id = $1`, [world.manager.id], '23514', 'users_agent_has_team');
    // Managers and admins need no team.
    await expect(db.sql.query(insertUser, ['teamless.manager@test.dev', 'Teamless', ARGON2ID_HASH, 'manager', null])).resolves.toBeTruthy();
  });

  it('refuses to delete a team while an agent still works in it', async () => {
    const team = await createTeam(db.sql, unique('Staffed team '));
    await createUser(db.sql, { email: unique('staffed.agent') + '@test.dev', role: 'agent', teamId: team });
    await expectRejected(['teams', 'users'], `DELETE FROM teams WHERE id = $1`, [team], '23514', 'users_agent_has_team');
  });

  it('refuses a role outside the enum', async () => {
    await expectRejected('users', insertUser, ['root@test.dev', 'Root', ARGON2ID_HASH, 'superuser', null], '22P02');
  });

  it('accepts only argon2id password hashes', async () => {
    const bcrypt = '$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW';
    const argon2i = '$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g';
    for (const hash of [bcrypt, argon2i, 'plaintext-password', '']) {
      await expectRejected('users', insertUser, ['weak.hash@test.dev', 'Weak', hash, 'manager', null], '23514', 'users_password_hash_check');
    }
    await expectRejected('users', insertUser, ['no.hash@test.dev', 'None', null, 'manager', null], '23502');
  });
});

describe('sessions', () => {
  const insertSession = `INSERT INTO sessions (id, user_id, expires_at) VALUES ($1, $2, now() + interval '1 day')`;
  const hex64 = (c: string) => c.repeat(64);

  it('stores only 64-hex-digit ids (the SHA-256 of the token)', async () => {
    for (const id of ['abc', hex64('A'), hex64('g'), hex64('a') + 'b', 'raw-session-token']) {
      await expectRejected('sessions', insertSession, [id, world.manager.id], '23514', 'sessions_id_check');
    }
    await expect(db.sql.query(insertSession, [hex64('a'), world.manager.id])).resolves.toBeTruthy();
  });

  it('refuses a session for a user who is not active', async () => {
    const gone = await createUser(db.sql, { email: 'inactive.session@test.dev', role: 'manager', active: false });
    await expectRejected('sessions', insertSession, [hex64('f'), gone.id], '23514', 'sessions_user_active');
  });

  it('refuses a session of a user that does not exist', async () => {
    await expectRejected('sessions', insertSession, [hex64('b'), 999_999], '23503', 'sessions_user_id_fkey');
  });

  it('ends every session of a user who is deactivated, and only theirs', async () => {
    const leaver = await createUser(db.sql, { email: 'leaver@test.dev', role: 'manager' });
    const stayer = await createUser(db.sql, { email: 'stayer@test.dev', role: 'manager' });
    await db.sql.query(insertSession, [hex64('c'), leaver.id]);
    await db.sql.query(insertSession, [hex64('d'), leaver.id]);
    await db.sql.query(insertSession, [hex64('e'), stayer.id]);
    const sessionsOf = async (userId: number) =>
      (await db.sql.query(`SELECT id FROM sessions WHERE user_id = $1 ORDER BY id`, [userId])).rows.map((r) => r.id);

    await db.sql.query(`UPDATE users SET name = 'Still here' WHERE id = $1`, [leaver.id]);
    expect(await sessionsOf(leaver.id)).toEqual([hex64('c'), hex64('d')]);

    await db.sql.query(`UPDATE users SET active = false WHERE id = $1`, [leaver.id]);
    expect(await sessionsOf(leaver.id)).toEqual([]);
    expect(await sessionsOf(stayer.id)).toEqual([hex64('e')]);
  });
});

describe('audit_log', () => {
  let entryId: number;
  beforeAll(async () => {
    entryId = (await one(`INSERT INTO audit_log (action, target_type, target_id) VALUES ('auth.login', 'user', '1') RETURNING id`)).id;
  });

  it('refuses UPDATE, DELETE and TRUNCATE', async () => {
    await expectRejected('audit_log', `UPDATE audit_log SET action = 'auth.logout' WHERE id = $1`, [entryId], '23001');
    await expectRejected('audit_log', `DELETE FROM audit_log WHERE id = $1`, [entryId], '23001');
    await expectRejected('audit_log', `TRUNCATE audit_log`, [], '23001');
    expect(await one(`SELECT count(*)::int AS n FROM audit_log WHERE id = $1`, [entryId])).toEqual({ n: 1 });
  });

  it('refuses an action that is not a dotted lower-case name', async () => {
    for (const action of ['login', 'Auth.Login', 'auth.', 'auth login']) {
      await expectRejected('audit_log', `INSERT INTO audit_log (action) VALUES ($1)`, [action], '23514', 'audit_log_action_check');
    }
    await expect(db.sql.query(`INSERT INTO audit_log (action) VALUES ('user.role_changed')`)).resolves.toBeTruthy();
  });
});

describe('customers', () => {
  it('refuses a second customer whose email differs only in case', async () => {
    await expectRejected('customers', insertCustomer('last_name'), ['CASEY@Example.COM', 'Twin'], '23505', 'customers_email_key');
  });

  it('refuses an email that is not an address', async () => {
    for (const email of ['casey', 'casey at example.com', 'casey@', 'a b@example.com']) {
      await expectRejected('customers', insertCustomer('last_name'), [email, 'Bad'], '23514', 'customers_email_check');
    }
  });

  it('refuses a phone number with letters or the wrong length', async () => {
    for (const phone of ['call me', '12345', '+1 555 0100 ext 7', '1'.repeat(25)]) {
      await expectRejected('customers', insertCustomer('phone'), [unique('phone') + '@example.com', phone], '23514', 'customers_phone_check');
    }
    await expect(db.sql.query(insertCustomer('phone'), ['phone.ok@example.com', '+1 (555) 010-0199'])).resolves.toBeTruthy();
  });

  it('refuses marketing consent without the moment it was given', async () => {
    await expectRejected('customers', insertCustomer('marketing_consent'), ['consent@example.com', true], '23514', 'customers_consent_has_time');
    const id = await createCustomer(db.sql, 'consent.later@example.com');
    await expectRejected('customers', `UPDATE customers SET marketing_consent = true WHERE id = $1`, [id], '23514', 'customers_consent_has_time');
    await db.sql.query(`UPDATE customers SET marketing_consent = true, marketing_consent_at = now() WHERE id = $1`, [id]);
    expect(await one(`SELECT marketing_consent FROM customers WHERE id = $1`, [id])).toEqual({ marketing_consent: true });
  });

  it('accepts only known preferred channels', async () => {
    await expectRejected('customers', insertCustomer('preferred_channels'), ['fax@example.com', ['email', 'fax']], '23514', 'customers_preferred_channels_check');
    await expectRejected('customers', insertCustomer('preferred_channels'), ['pigeon@example.com', ['pigeon']], '23514', 'customers_preferred_channels_check');
    await expect(db.sql.query(insertCustomer('preferred_channels'), ['channels@example.com', ['sms', 'push']])).resolves.toBeTruthy();
  });

  it('accepts only language tags like en or pt-BR', async () => {
    for (const language of ['english', 'EN', 'en-us', 'en_US', '']) {
      await expectRejected('customers', insertCustomer('language'), [unique('lang') + '@example.com', language], '23514', 'customers_language_check');
    }
    await expect(db.sql.query(insertCustomer('language'), ['lang.ok@example.com', 'pt-BR'])).resolves.toBeTruthy();
  });

  it('keeps attributes a JSON object and addresses a JSON array', async () => {
    for (const attributes of ['[]', '"vip"', '42', 'null']) {
      await expectRejected('customers', insertCustomer('attributes'), [unique('attr') + '@example.com', attributes], '23514', 'customers_attributes_check');
    }
    for (const addresses of ['{}', '"1 Main St"']) {
      await expectRejected('customers', insertCustomer('addresses'), [unique('addr') + '@example.com', addresses], '23514', 'customers_addresses_check');
    }
    await expect(db.sql.query(insertCustomer('addresses'), ['addr.ok@example.com', '[{"line1": "1 Main St"}]'])).resolves.toBeTruthy();
  });

  it('refuses a customer without a first name', async () => {
    await expectRejected('customers', `INSERT INTO customers (email, first_name) VALUES ($1, NULL)`, ['nameless@example.com'], '23502');
    await expectRejected('customers', `INSERT INTO customers (email, first_name) VALUES ($1, ' ')`, ['blank@example.com'], '23514', 'customers_first_name_check');
  });
});

describe('categories', () => {
  it('refuses a category that is its own parent', async () => {
    const id = (await one(`INSERT INTO categories (name) VALUES ('Shoes') RETURNING id`)).id;
    await expectRejected('categories', `UPDATE categories SET parent_id = id WHERE id = $1`, [id], '23514', 'categories_not_own_parent');
    await expectRejected('categories', `INSERT INTO categories (name) VALUES ('SHOES')`, [], '23505', 'categories_name_key');
  });
});

describe('products', () => {
  const insert = `INSERT INTO products (sku, name, price, stock) VALUES ($1, 'Widget', $2, $3)`;

  it('accepts only upper-case SKUs of 3 to 32 characters', async () => {
    for (const sku of ['ab-123', 'AB', '-AB123', 'AB 123', 'A'.repeat(33)]) {
      await expectRejected('products', insert, [sku, 10, 1], '23514', 'products_sku_check');
    }
    await expect(db.sql.query(insert, ['SKU-OK-1', 10, 1])).resolves.toBeTruthy();
  });

  it('refuses a duplicate SKU', async () => {
    await insertProduct({ sku: 'DUP-1' });
    await expectRejected('products', insert, ['DUP-1', 10, 1], '23505', 'products_sku_key');
  });

  it('refuses a negative price and allows a free product', async () => {
    await expectRejected('products', insert, ['NEG-PRICE', -0.01, 1], '23514', 'products_price_check');
    await expect(db.sql.query(insert, ['FREE-1', 0, 1])).resolves.toBeTruthy();
  });

  it('never lets stock go below zero', async () => {
    await expectRejected('products', insert, ['NEG-STOCK', 10, -1], '23514', 'products_stock_check');
    const id = await insertProduct({ stock: 3 });
    await expectRejected('products', `UPDATE products SET stock = stock - 4 WHERE id = $1`, [id], '23514', 'products_stock_check');
    await db.sql.query(`UPDATE products SET stock = stock - 3 WHERE id = $1`, [id]);
    expect(await one(`SELECT stock FROM products WHERE id = $1`, [id])).toEqual({ stock: 0 });
  });
});

describe('orders', () => {
  const insert = `INSERT INTO orders (customer_id, total, status, currency, external_id) VALUES ($1, $2, $3, $4, $5)`;

  it('refuses a status outside the enum', async () => {
    await expectRejected('orders', insert, [world.customerId, 10, 'lost', 'USD', null], '22P02');
  });

  it('refuses a negative total', async () => {
    await expectRejected('orders', insert, [world.customerId, -1, 'pending', 'USD', null], '23514', 'orders_total_check');
    await expect(db.sql.query(insert, [world.customerId, 0, 'pending', 'USD', null])).resolves.toBeTruthy();
  });

  it('accepts only three upper-case letters as currency', async () => {
    for (const currency of ['usd', 'EU', 'U$D']) {
      await expectRejected('orders', insert, [world.customerId, 10, 'paid', currency, null], '23514', 'orders_currency_check');
    }
    await expectRejected('orders', insert, [world.customerId, 10, 'paid', 'EURO', null], '22001');
    await expect(db.sql.query(insert, [world.customerId, 10, 'paid', 'EUR', null])).resolves.toBeTruthy();
  });

  it('refuses a second order with the same external id, but not two without one', async () => {
    await db.sql.query(insert, [world.customerId, 10, 'paid', 'USD', 'shop-1001']);
    await expectRejected('orders', insert, [world.customerId, 12, 'paid', 'USD', 'shop-1001'], '23505', 'orders_external_id_key');
    await db.sql.query(insert, [world.customerId, 10, 'paid', 'USD', null]);
    await expect(db.sql.query(insert, [world.customerId, 10, 'paid', 'USD', null])).resolves.toBeTruthy();
  });

  it('refuses an order for a customer that does not exist', async () => {
    await expectRejected('orders', insert, [999_999, 10, 'paid', 'USD', null], '23503', 'orders_customer_id_fkey');
  });

  it('refuses to delete a customer who has orders', async () => {
    const customer = await createCustomer(db.sql, 'has.orders@example.com');
    await insertOrder(customer);
    await expectRejected(['customers', 'orders'], `DELETE FROM customers WHERE id = $1`, [customer], '23503', 'orders_customer_id_fkey');
    const orderless = await createCustomer(db.sql, 'no.orders@example.com');
    expect((await db.sql.query(`DELETE FROM customers WHERE id = $1`, [orderless])).rowCount).toBe(1);
  });
});

describe('order_items', () => {
  const insert = `INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES ($1, $2, $3, 10)`;
  let orderId: number;
  let productId: number;
  beforeAll(async () => {
    orderId = await insertOrder(world.customerId);
    productId = await insertProduct();
  });

  it('accepts quantities from 1 to 10000 only', async () => {
    for (const quantity of [0, -1, 10_001]) {
      await expectRejected('order_items', insert, [orderId, productId, quantity], '23514', 'order_items_quantity_check');
    }
    await db.sql.query(insert, [orderId, productId, 1]);
    await expect(db.sql.query(insert, [orderId, productId, 10_000])).resolves.toBeTruthy();
  });

  it('refuses to delete a product that was ordered', async () => {
    await db.sql.query(insert, [orderId, productId, 2]);
    await expectRejected(['products', 'order_items'], `DELETE FROM products WHERE id = $1`, [productId], '23503', 'order_items_product_id_fkey');
    await expectRejected('order_items', insert, [orderId, 999_999, 1], '23503', 'order_items_product_id_fkey');
  });
});

describe('reviews', () => {
  const insert = `INSERT INTO reviews (customer_id, product_id, rating) VALUES ($1, $2, $3)`;

  it('accepts ratings from 1 to 5 only', async () => {
    const productId = await insertProduct();
    for (const rating of [0, 6, -1]) {
      await expectRejected('reviews', insert, [world.customerId, productId, rating], '23514', 'reviews_rating_check');
    }
    await expect(db.sql.query(insert, [world.customerId, productId, 5])).resolves.toBeTruthy();
  });

  it('allows one review per customer and product', async () => {
    const productId = await insertProduct();
    await db.sql.query(insert, [world.customerId, productId, 4]);
    await expectRejected('reviews', insert, [world.customerId, productId, 2], '23505', 'reviews_one_per_customer_product');
    const other = await createCustomer(db.sql, 'second.reviewer@example.com');
    await expect(db.sql.query(insert, [other, productId, 2])).resolves.toBeTruthy();
  });
});

describe('tickets', () => {
  const insert = (columns: string[]) =>
    `INSERT INTO tickets (customer_id, team_id, subject${columns.map((c) => `, ${c}`).join('')})
     VALUES ($1, $2, $3${columns.map((_, i) => `, $${i + 4}`).join('')})`;
  const ticket = (columns: Record<string, unknown> = {}, subject = 'Where is my parcel?') =>
    [insert(Object.keys(columns)), [world.customerId, world.teamA, subject, ...Object.values(columns)]] as [string, unknown[]];

  it('refuses a status, priority or channel outside their enums', async () => {
    await expectRejected('tickets', ...ticket({ status: 'archived' }), '22P02');
    await expectRejected('tickets', ...ticket({ priority: 'critical' }), '22P02');
    await expectRejected('tickets', ...ticket({ channel: 'fax' }), '22P02');
  });

  it('needs a subject of 1 to 200 characters', async () => {
    for (const subject of ['', '   ', 'x'.repeat(201)]) {
      await expectRejected('tickets', ...ticket({}, subject), '23514', 'tickets_subject_check');
    }
    await expect(db.sql.query(...ticket({}, 'x'.repeat(200)))).resolves.toBeTruthy();
  });

  it('needs resolved_at to be resolved or closed, and closed_at to be closed', async () => {
    await expectRejected('tickets', ...ticket({ status: 'resolved' }), '23514', 'tickets_resolved_has_time');
    await expectRejected('tickets', ...ticket({ status: 'closed', resolved_at: new Date() }), '23514', 'tickets_closed_has_time');
    const id = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
    await expectRejected('tickets', `UPDATE tickets SET status = 'resolved' WHERE id = $1`, [id], '23514', 'tickets_resolved_has_time');
    await db.sql.query(`UPDATE tickets SET status = 'resolved', resolved_at = now() WHERE id = $1`, [id]);
    await expectRejected('tickets', `UPDATE tickets SET status = 'closed' WHERE id = $1`, [id], '23514', 'tickets_closed_has_time');
    await db.sql.query(`UPDATE tickets SET status = 'closed', closed_at = now() WHERE id = $1`, [id]);
    expect(await one(`SELECT status FROM tickets WHERE id = $1`, [id])).toEqual({ status: 'closed' });
  });

  it('keeps the CSAT score between 1 and 5 and always with its timestamp', async () => {
    await expectRejected('tickets', ...ticket({ csat_score: 6, csat_at: new Date() }), '23514', 'tickets_csat_score_check');
    await expectRejected('tickets', ...ticket({ csat_score: 0, csat_at: new Date() }), '23514', 'tickets_csat_score_check');
    await expectRejected('tickets', ...ticket({ csat_score: 5 }), '23514', 'tickets_csat_has_time');
    await expectRejected('tickets', ...ticket({ csat_at: new Date() }), '23514', 'tickets_csat_has_time');
    await expect(db.sql.query(...ticket({ csat_score: 5, csat_at: new Date() }))).resolves.toBeTruthy();
  });

  it('refuses a first response before the ticket was created', async () => {
    const anHourAgo = new Date(Date.now() - 3_600_000);
    await expectRejected('tickets', ...ticket({ first_responded_at: anHourAgo }), '23514', 'tickets_response_after_creation');
  });

  it('keeps the version at 1 or more, never lowered, and bumped by any change (a psql UPDATE too)', async () => {
    await expectRejected('tickets', ...ticket({ version: 0 }), '23514', 'tickets_version_check');
    const id = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
    const version = async () => (await one(`SELECT version FROM tickets WHERE id = $1`, [id])).version;
    await db.sql.query(`UPDATE tickets SET version = version - 1 WHERE id = $1`, [id]);
    expect(await version()).toBe(1);
    await db.sql.query(`UPDATE tickets SET priority = 'high' WHERE id = $1`, [id]);
    expect(await version()).toBe(2);
    // The app's own bump and the trigger's are one bump.
    await db.sql.query(`UPDATE tickets SET priority = 'low', version = version + 1 WHERE id = $1`, [id]);
    expect(await version()).toBe(3);
    await db.sql.query(`UPDATE tickets SET priority = priority WHERE id = $1`, [id]);
    expect(await version()).toBe(3);
  });

  it('needs a team, and keeps a team that still has tickets', async () => {
    await expectRejected('tickets', `INSERT INTO tickets (customer_id, subject) VALUES ($1, 'No team')`, [world.customerId], '23502');
    const team = await createTeam(db.sql, unique('Ticket team '));
    await createTicket(db.sql, { customerId: world.customerId, teamId: team });
    await expectRejected(['teams', 'tickets'], `DELETE FROM teams WHERE id = $1`, [team], '23503', 'tickets_team_id_fkey');
  });
});

describe('ticket_messages', () => {
  const insert = `INSERT INTO ticket_messages (ticket_id, author_type, author_user_id, body, internal) VALUES ($1, $2, $3, $4, $5)`;
  let ticketId: number;
  beforeAll(async () => {
    ticketId = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
  });

  it('refuses an internal note written by the customer', async () => {
    await expectRejected('ticket_messages', insert, [ticketId, 'customer', null, 'psst', true], '23514', 'ticket_messages_internal_not_customer');
    await expect(db.sql.query(insert, [ticketId, 'agent', world.agentA.id, 'Customer is a VIP', true])).resolves.toBeTruthy();
    await expect(db.sql.query(insert, [ticketId, 'system', null, 'SLA breached', true])).resolves.toBeTruthy();
  });

  it('refuses a customer message attributed to a staff user', async () => {
    await expectRejected('ticket_messages', insert, [ticketId, 'customer', world.agentA.id, 'Hello', false], '23514', 'ticket_messages_customer_no_user');
    await expect(db.sql.query(insert, [ticketId, 'customer', null, 'Hello', false])).resolves.toBeTruthy();
  });

  it('refuses an empty or blank body', async () => {
    for (const body of ['', '   ', '\n\t ']) {
      await expectRejected('ticket_messages', insert, [ticketId, 'agent', world.agentA.id, body, false], '23514', 'ticket_messages_body_check');
    }
    await expectRejected('ticket_messages', insert, [ticketId, 'agent', world.agentA.id, null, false], '23502');
  });

  it('refuses an author type outside the enum', async () => {
    await expectRejected('ticket_messages', insert, [ticketId, 'bot', null, 'beep', false], '22P02');
  });
});

describe('loyalty', () => {
  const insertEntry = `INSERT INTO loyalty_ledger (account_id, kind, points, reason, idempotency_key, reverses_id)
                       VALUES ($1, $2, $3, 'test', $4, $5) RETURNING id`;
  const LOYALTY = ['loyalty_ledger', 'loyalty_accounts'];

  async function newAccount(): Promise<number> {
    const customer = await createCustomer(db.sql, unique('member') + '@example.com');
    return createLoyaltyAccount(db.sql, customer);
  }
  async function entry(accountId: number, kind: string, points: number, reversesId: number | null = null): Promise<number> {
    return Number((await one(insertEntry, [accountId, kind, points, unique('key-'), reversesId])).id);
  }
  const account = (id: number) => one(`SELECT balance, lifetime_points, tier FROM loyalty_accounts WHERE id = $1`, [id]);

  it('keeps the ledger append-only', async () => {
    const acc = await newAccount();
    const id = await entry(acc, 'earn', 100);
    await expectRejected(LOYALTY, `UPDATE loyalty_ledger SET points = 1000 WHERE id = $1`, [id], '23001');
    await expectRejected(LOYALTY, `DELETE FROM loyalty_ledger WHERE id = $1`, [id], '23001');
    await expectRejected(LOYALTY, `TRUNCATE loyalty_ledger CASCADE`, [], '23001');
  });

  it('moves balances only through the ledger', async () => {
    const acc = await newAccount();
    await entry(acc, 'earn', 100);
    await expectRejected(LOYALTY, `UPDATE loyalty_accounts SET balance = 999999, tier = 'platinum' WHERE id = $1`, [acc], '23514', 'loyalty_accounts_ledger_only');
    const customer = await createCustomer(db.sql, unique('rich') + '@example.com');
    await expectRejected(LOYALTY, `INSERT INTO loyalty_accounts (customer_id, balance) VALUES ($1, 5000)`, [customer], '23514', 'loyalty_accounts_ledger_only');
    expect(await account(acc)).toMatchObject({ balance: 100 });
  });

  it('refuses to reverse a reversal', async () => {
    const acc = await newAccount();
    const earned = await entry(acc, 'earn', 3000);
    const reversed = await entry(acc, 'reverse', -3000, earned);
    await expectRejected(LOYALTY, insertEntry, [acc, 'reverse', 3000, unique('key-'), reversed], '23514', 'loyalty_ledger_reverse_exact');
    expect(await account(acc)).toMatchObject({ balance: 0, lifetime_points: 0, tier: 'bronze' });
  });

  it('enforces the sign of each kind of entry', async () => {
    const acc = await newAccount();
    await entry(acc, 'earn', 500);
    await expectRejected(LOYALTY, insertEntry, [acc, 'earn', -10, unique('key-'), null], '23514', 'loyalty_ledger_sign');
    await expectRejected(LOYALTY, insertEntry, [acc, 'redeem', 10, unique('key-'), null], '23514', 'loyalty_ledger_sign');
    await expectRejected(LOYALTY, insertEntry, [acc, 'expire', 10, unique('key-'), null], '23514', 'loyalty_ledger_sign');
    await expectRejected(LOYALTY, insertEntry, [acc, 'adjust', 0, unique('key-'), null], '23514', 'loyalty_ledger_points_check');
    await expectRejected(LOYALTY, insertEntry, [acc, 'bonus', 10, unique('key-'), null], '22P02');
    // Adjustments go either way.
    await entry(acc, 'adjust', 20);
    await entry(acc, 'adjust', -30);
    await entry(acc, 'expire', -40);
    expect(await account(acc)).toMatchObject({ balance: 450 });
  });

  it('needs a reversal to reference an entry, and only a reversal may', async () => {
    const acc = await newAccount();
    const earned = await entry(acc, 'earn', 100);
    await expectRejected(LOYALTY, insertEntry, [acc, 'reverse', -100, unique('key-'), null], '23514', 'loyalty_ledger_reverse_target');
    await expectRejected(LOYALTY, insertEntry, [acc, 'earn', 100, unique('key-'), earned], '23514', 'loyalty_ledger_reverse_target');
    await expectRejected(LOYALTY, insertEntry, [acc, 'reverse', 50, unique('key-'), 999_999_999], '23503', 'loyalty_ledger_reverses_id_fkey');
  });

  it('needs a reversal to undo exactly the points of an entry of the same account', async () => {
    const acc = await newAccount();
    const other = await newAccount();
    const earned = await entry(acc, 'earn', 100);
    await entry(other, 'earn', 100);
    await expectRejected(LOYALTY, insertEntry, [acc, 'reverse', -50, unique('key-'), earned], '23514', 'loyalty_ledger_reverse_exact');
    await expectRejected(LOYALTY, insertEntry, [acc, 'reverse', 100, unique('key-'), earned], '23514', 'loyalty_ledger_reverse_exact');
    await expectRejected(LOYALTY, insertEntry, [other, 'reverse', -100, unique('key-'), earned], '23514', 'loyalty_ledger_reverse_exact');
    await entry(acc, 'reverse', -100, earned);
    expect(await account(acc)).toMatchObject({ balance: 0 });
  });

  it('reverses an entry only once', async () => {
    const acc = await newAccount();
    const earned = await entry(acc, 'earn', 300);
    await entry(acc, 'reverse', -300, earned);
    await entry(acc, 'earn', 300); // so that a second reversal would not fail on the balance instead
    await expectRejected(LOYALTY, insertEntry, [acc, 'reverse', -300, unique('key-'), earned], '23505', 'loyalty_ledger_reverses_once');
  });

  it('refuses a second entry with the same idempotency key', async () => {
    const acc = await newAccount();
    await db.sql.query(insertEntry, [acc, 'earn', 100, 'order-42-earn', null]);
    await expectRejected(LOYALTY, insertEntry, [acc, 'earn', 100, 'order-42-earn', null], '23505', 'loyalty_ledger_idempotency_key');
    expect(await account(acc)).toMatchObject({ balance: 100 });
  });

  it('refuses a redemption larger than the balance and leaves the balance as it was', async () => {
    const acc = await newAccount();
    await entry(acc, 'earn', 100);
    await expectRejected(LOYALTY, insertEntry, [acc, 'redeem', -101, unique('key-'), null], '23514', 'loyalty_accounts_balance_check');
    await expectRejected(LOYALTY, insertEntry, [acc, 'adjust', -101, unique('key-'), null], '23514', 'loyalty_accounts_balance_check');
    expect(await account(acc)).toMatchObject({ balance: 100 });
    await entry(acc, 'redeem', -100);
    expect(await account(acc)).toMatchObject({ balance: 0 });
  });

  it('maintains balance, lifetime points and tier from the ledger', async () => {
    const acc = await newAccount();
    expect(await account(acc)).toEqual({ balance: 0, lifetime_points: 0, tier: 'bronze' });
    const big = await entry(acc, 'earn', 2500);
    expect(await account(acc)).toEqual({ balance: 2500, lifetime_points: 2500, tier: 'silver' });
    const redeemed = await entry(acc, 'redeem', -400);
    expect(await account(acc)).toEqual({ balance: 2100, lifetime_points: 2500, tier: 'silver' });
    await entry(acc, 'earn', 600);
    // Reversing a redemption gives the points back but earns nothing.
    await entry(acc, 'reverse', 400, redeemed);
    expect(await account(acc)).toEqual({ balance: 3100, lifetime_points: 3100, tier: 'silver' });
    // Reversing an earning (a refund) takes it out of lifetime points too, and the tier follows.
    await entry(acc, 'reverse', -2500, big);
    expect(await account(acc)).toEqual({ balance: 600, lifetime_points: 600, tier: 'bronze' });
  });

  it('lets exactly one of two redemptions through when together they exceed the balance', async () => {
    const acc = await newAccount();
    await entry(acc, 'earn', 100);
    const first = await db.sql.connect();
    const second = await db.sql.connect();
    try {
      const secondPid = (await second.query(`SELECT pg_backend_pid() AS pid`)).rows[0].pid;
      await first.query('BEGIN');
      await second.query('BEGIN');
      await first.query(insertEntry, [acc, 'redeem', -70, 'race-first', null]);
      // The second redemption must queue behind the first one's lock on the account row.
      const secondInsert = failureOf(insertEntry, [acc, 'redeem', -70, 'race-second', null], second);
      await vi.waitFor(
        async () => {
          const { rows } = await db.sql.query(`SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1`, [secondPid]);
          expect(rows[0]?.wait_event_type).toBe('Lock');
        },
        { timeout: 5000, interval: 10 }
      );
      await first.query('COMMIT');
      const error = await secondInsert;
      expect({ code: error?.code, constraint: error?.constraint }).toEqual({ code: '23514', constraint: 'loyalty_accounts_balance_check' });
      await second.query('ROLLBACK');
    } finally {
      first.release();
      second.release();
    }
    expect(await account(acc)).toMatchObject({ balance: 30 });
    const keys = (await db.sql.query(`SELECT idempotency_key FROM loyalty_ledger WHERE account_id = $1 AND kind = 'redeem'`, [acc])).rows;
    expect(keys).toEqual([{ idempotency_key: 'race-first' }]);
  });

  it('lets exactly one of two redemptions through when they race freely', async () => {
    const acc = await newAccount();
    await entry(acc, 'earn', 100);
    const redeem = async (key: string) => {
      const client = await db.sql.connect();
      try {
        await client.query('BEGIN');
        await client.query(insertEntry, [acc, 'redeem', -60, key, null]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
    };
    const outcomes = await Promise.allSettled([redeem('free-race-a'), redeem('free-race-b')]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toMatchObject({ code: '23514', constraint: 'loyalty_accounts_balance_check' });
    expect(await account(acc)).toMatchObject({ balance: 40 });
  });
});

describe('change_log capture', () => {
  const lastChange = async () => Number((await one(`SELECT coalesce(max(id), 0) AS id FROM change_log`)).id);
  const changesSince = async (id: number) =>
    (await db.sql.query(`SELECT topic, op, entity_id::int AS entity_id, customer_id FROM change_log WHERE id > $1 ORDER BY id`, [id])).rows;

  it('writes one change_log row per INSERT, UPDATE and DELETE of an order', async () => {
    let mark = await lastChange();
    const orderId = await insertOrder(world.customerId);
    expect(await changesSince(mark)).toEqual([{ topic: 'order', op: 'insert', entity_id: orderId, customer_id: world.customerId }]);

    mark = await lastChange();
    await db.sql.query(`UPDATE orders SET status = 'paid' WHERE id = $1`, [orderId]);
    expect(await changesSince(mark)).toEqual([{ topic: 'order', op: 'update', entity_id: orderId, customer_id: world.customerId }]);
    // The version that was replaced travels with the fields that changed.
    expect(await one(`SELECT old FROM change_log WHERE id > $1`, [mark])).toEqual({ old: { status: 'pending', version: 1 } });
    expect(await one(`SELECT version FROM orders WHERE id = $1`, [orderId])).toEqual({ version: 2 });

    mark = await lastChange();
    await db.sql.query(`DELETE FROM orders WHERE id = $1`, [orderId]);
    expect(await changesSince(mark)).toEqual([{ topic: 'order', op: 'delete', entity_id: orderId, customer_id: world.customerId }]);
  });

  it('writes nothing for an UPDATE that changes nothing', async () => {
    const orderId = await insertOrder(world.customerId);
    const mark = await lastChange();
    const result = await db.sql.query(`UPDATE orders SET status = status, total = total WHERE id = $1`, [orderId]);
    expect(result.rowCount).toBe(1);
    expect(await changesSince(mark)).toEqual([]);
  });

  it("suppresses capture with SET LOCAL pulse.capture = 'off' for that transaction only", async () => {
    const client = await db.sql.connect();
    try {
      const mark = await lastChange();
      await client.query('BEGIN');
      await client.query(`SET LOCAL pulse.capture = 'off'`);
      const quiet = (await client.query(`INSERT INTO orders (customer_id, total) VALUES ($1, 1) RETURNING id`, [world.customerId])).rows[0].id;
      await client.query('COMMIT');
      expect(await one(`SELECT count(*)::int AS n FROM orders WHERE id = $1`, [quiet])).toEqual({ n: 1 });
      expect(await changesSince(mark)).toEqual([]);

      // Same connection, next transaction: captured again.
      const loud = (await client.query(`INSERT INTO orders (customer_id, total) VALUES ($1, 2) RETURNING id`, [world.customerId])).rows[0].id;
      expect(await changesSince(mark)).toEqual([{ topic: 'order', op: 'insert', entity_id: loud, customer_id: world.customerId }]);
    } finally {
      client.release();
    }
  });
});
