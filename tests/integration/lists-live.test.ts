import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientToServerEvents } from '#shared/events.js';
import { encodeListState, type FilterGroup, type ListEntity } from '#shared/lists/query.js';
import { HORIZON_HEADER } from '#shared/stream-position.js';
import type { RunningPulse } from '../../server/pulse.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createOrder, createWorld } from '../support/fixtures.js';
import { Browser, expectErrorShape } from '../support/http.js';
import {
  closeSockets,
  connectSocket,
  openSocket,
  record,
  waitFor,
  whenReady,
  type ClientSocket
} from '../support/socket.js';
import { startTestServer } from '../support/server.js';

// Live lists, CSV export and saved views against a real server.

let db: TestDatabase;
let server: RunningPulse;
let world: Awaited<ReturnType<typeof createWorld>>;
let as: Record<'agentA' | 'agentB' | 'manager' | 'admin', Browser>;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  server = await startTestServer(db.url);
  const [agentA, agentB, manager, admin] = await Promise.all(
    [world.agentA, world.agentB, world.manager, world.admin].map((u) => Browser.signedIn(server.url, u.email))
  );
  as = { agentA, agentB, manager, admin };
});
afterAll(async () => {
  closeSockets();
  await server?.close();
  await db?.drop();
});

const ask = <T>(socket: ClientSocket, event: 'list:watch' | 'list:unwatch', entity: unknown) =>
  new Promise<T>((resolve) =>
    (socket.emit as (e: keyof ClientToServerEvents, ...a: unknown[]) => void)(event, entity, resolve)
  );

describe('live lists', () => {
  it('a socket watching list:orders receives order:created for a new order, and stops after unwatch', async () => {
    const socket = await openSocket(server.url, as.agentA);
    expect(await ask(socket, 'list:watch', 'orders')).toEqual({ data: { ok: true } });
    const orderId = await createOrder(db.sql, { customerId: world.customerId, total: '42.00' });
    const created = await waitFor(socket, 'order:created', (e) => e.data.id === orderId);
    expect(created.data).toMatchObject({ total: '42.00', customerId: world.customerId });

    // The client asks whether the row matches its filter: present = matches.
    const filter: FilterGroup = { op: 'and', rules: [{ field: 'total', operator: 'gt', value: '40' }] };
    const matches = await as.agentA.getOk(`/api/orders?${encodeListState({ ids: [orderId], filter })}`);
    expect(matches.rows.map((r: { id: number }) => r.id)).toEqual([orderId]);
    await db.sql.query(`UPDATE orders SET total = 10 WHERE id = $1`, [orderId]);
    await waitFor(socket, 'order:updated', (e) => e.data.id === orderId && e.data.total === '10.00');
    const gone = await as.agentA.getOk(`/api/orders?${encodeListState({ ids: [orderId], filter })}`);
    expect(gone.rows).toEqual([]);

    expect(await ask(socket, 'list:unwatch', 'orders')).toEqual({ data: { ok: true } });
    const later = record(socket, ['order:created']);
    const next = await createOrder(db.sql, { customerId: world.customerId, total: '1.00' });
    // A fence: another socket watching the list hears of the next order, so this one was sent already.
    const fenceSocket = await openSocket(server.url, as.agentA);
    await ask(fenceSocket, 'list:watch', 'orders');
    const fence = await createOrder(db.sql, { customerId: world.customerId, total: '2.00' });
    await waitFor(fenceSocket, 'order:created', (e) => e.data.id === fence);
    expect(later.map((e) => e.payload.data.id)).not.toContain(next);
  });

  it('an agent not watching a list gets no product or order changes; products reach list:products', async () => {
    const watcher = await openSocket(server.url, as.agentB);
    const bystander = await openSocket(server.url, as.agentB);
    const heard = record(bystander, ['product:created', 'order:created']);
    await ask(watcher, 'list:watch', 'products');
    const { rows } = await db.sql.query<{ id: number }>(
      `INSERT INTO products (sku, name, price, stock) VALUES ('LIVE-1', 'Live lamp', 30, 5) RETURNING id`
    );
    const created = await waitFor(watcher, 'product:created', (e) => e.data.id === rows[0].id);
    expect(created.data).toMatchObject({ sku: 'LIVE-1', price: '30.00', stock: 5, version: 1 });
    // Stock moves only through stock movements: selling the last five empties it.
    await db.sql.query(
      `INSERT INTO stock_movements (product_id, kind, quantity, reason) VALUES ($1, 'adjust', -5, 'Counted')`,
      [rows[0].id]
    );
    const updated = await waitFor(watcher, 'product:updated', (e) => e.data.id === rows[0].id);
    expect(updated).toMatchObject({ op: 'update', data: { stock: 0, version: 2 }, old: { stock: 5 } });
    expect(heard).toEqual([]);
  });

  it('refuses a list that does not exist, in the ack', async () => {
    const socket = await openSocket(server.url, as.agentA);
    for (const entity of ['users', 'sessions', 42, null, '__proto__']) {
      const answer = await ask<{ error: { code: string } }>(socket, 'list:watch', entity);
      expect(answer.error.code).toBe('validation_failed');
    }
  });

  it('a handshake watching lists is replayed what it missed since its horizon', async () => {
    const res = await as.agentA.get('/api/orders?limit=1');
    const horizon = res.headers.get(HORIZON_HEADER)!;
    const missed = await createOrder(db.sql, { customerId: world.customerId, total: '7.00' });
    const socket = connectSocket(server.url, as.agentA.cookie, {
      horizon,
      watch: { lists: ['orders', 'nonsense' as ListEntity] }
    });
    const ready = await whenReady(socket);
    expect(ready.replayed).toBeGreaterThanOrEqual(1);
    await waitFor(socket, 'order:created', (e) => e.data.id === missed);
  });
});

describe('CSV export', () => {
  beforeAll(async () => {
    const hostile = [
      ['=HYPERLINK("http://evil")', 'Formula'],
      ['+1+1', 'Plus'],
      ['-2+3', 'Minus'],
      ['@SUM(A1)', 'At'],
      ['\tTab', 'Tab'],
      ['\rCR', 'Return'],
      ['Safe;=cmd|calc', 'Semicolon'],
      ['Quote "me", please', 'Comma'],
      ['Zoë 🎉 محمد', 'Unicode']
    ];
    for (const [i, [first, last]] of hostile.entries()) {
      await db.sql.query(`INSERT INTO customers (email, first_name, last_name) VALUES ($1, $2, $3)`, [
        `csv${i}@example.com`,
        first,
        last
      ]);
    }
  });

  it('streams the filtered set with a BOM, RFC 4180 quoting and no formula a spreadsheet would run', async () => {
    const filter = {
      op: 'and',
      rules: [{ field: 'email', operator: 'starts_with', value: 'csv' }]
    } as FilterGroup;
    const res = await as.agentA.get(
      `/api/customers/export.csv?${encodeListState({ filter, columns: ['email', 'name', 'lifetimeSpend'], sort: [{ field: 'email', dir: 'asc' }] })}`
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    expect(res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="customers-\d{4}-\d{2}-\d{2}\.csv"$/
    );
    const raw = await (
      await fetch(
        new URL(`/api/customers/export.csv?${encodeListState({ filter, columns: ['email'] })}`, server.url),
        {
          headers: { cookie: as.agentA.cookie }
        }
      )
    ).arrayBuffer();
    expect([...new Uint8Array(raw).slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);

    const text = res.body as string;
    const lines = text.replace(/^\uFEFF/, '').split('\r\n');
    expect(lines[0]).toBe('Email,Name,Lifetime spend');
    expect(lines.slice(1, -1)).toEqual([
      `csv0@example.com,"'=HYPERLINK(""http://evil"") Formula",0.00`,
      `csv1@example.com,'+1+1 Plus,0.00`,
      `csv2@example.com,'-2+3 Minus,0.00`,
      `csv3@example.com,'@SUM(A1) At,0.00`,
      `csv4@example.com,'\tTab Tab,0.00`,
      `csv5@example.com,"'\rCR Return",0.00`,
      `csv6@example.com,Safe;'=cmd|calc Semicolon,0.00`,
      `csv7@example.com,"Quote ""me"", please Comma",0.00`,
      `csv8@example.com,Zoë 🎉 محمد Unicode,0.00`
    ]);
    expect(lines.at(-1)).toBe('');
  });

  it('neutralises a tab or CR at the start of any text cell', async () => {
    await db.sql.query(
      `UPDATE customers SET tags = ARRAY[E'\\tx', E'\\r=y'] WHERE email = 'csv0@example.com'`
    );
    const filter = {
      op: 'and',
      rules: [{ field: 'email', operator: 'is', value: 'csv0@example.com' }]
    } as FilterGroup;
    const res = await as.agentA.get(
      `/api/customers/export.csv?${encodeListState({ filter, columns: ['tags'] })}`
    );
    expect((res.body as string).split('\r\n')[1]).toBe(`"'\tx, \r=y"`);
  });

  it('refuses a bad filter before it starts streaming', async () => {
    const res = await as.agentA.get(`/api/orders/export.csv?sort=-nope`);
    expect(res.status).toBe(400);
    expectErrorShape(res.body);
  });
});

describe('saved views', () => {
  const state = {
    q: 'casey',
    filter: { op: 'and', rules: [{ field: 'tier', operator: 'is_any_of', value: ['gold'] }] },
    sort: [{ field: 'lifetimeSpend', dir: 'desc' }],
    columns: ['name', 'email', 'lifetimeSpend']
  };

  it('a personal view is its owner’s only; a team view is seen by the team; everyone is for managers', async () => {
    const personal = await as.agentA.post('/api/views', { name: 'My VIPs', entity: 'customers', state });
    expect(personal.status).toBe(201);
    expect(personal.body.view).toMatchObject({
      name: 'My VIPs',
      visibility: 'personal',
      shared: false,
      state,
      editable: true
    });
    const team = await as.agentA.post('/api/views', {
      name: 'Team VIPs',
      entity: 'customers',
      state,
      shared: true
    });
    expect(team.body.view).toMatchObject({ visibility: 'team', shared: true, teamId: world.teamA });

    const names = async (who: Browser) =>
      (await who.getOk('/api/views?entity=customers')).views.map((v: { name: string }) => v.name);
    expect(await names(as.agentA)).toEqual(['My VIPs', 'Team VIPs']);
    expect(await names(as.agentB)).toEqual([]);
    expect(await names(as.manager)).toEqual([]);

    const everyone = await as.agentA.post('/api/views', {
      name: 'All',
      entity: 'customers',
      state,
      visibility: 'everyone'
    });
    expect(everyone.status).toBe(403);
    const global = await as.manager.post('/api/views', {
      name: 'Everyone sees',
      entity: 'customers',
      state,
      visibility: 'everyone'
    });
    expect(global.status).toBe(201);
    expect(await names(as.agentB)).toEqual(['Everyone sees']);
    expect(await names(as.agentA)).toEqual(
      ['My VIPs', 'Team VIPs', 'Everyone sees']
        .sort((a, b) => a.localeCompare(b))
        .sort((a, b) => (a.startsWith('Every') ? 1 : 0) - (b.startsWith('Every') ? 1 : 0))
    );

    // Another user's personal view is not found; a shared one they cannot edit is forbidden.
    expect(
      (await as.agentB.request('PATCH', `/api/views/${personal.body.view.id}`, { name: 'Mine' })).status
    ).toBe(404);
    expect((await as.agentB.request('DELETE', `/api/views/${personal.body.view.id}`)).status).toBe(404);
    expect(
      (await as.agentB.request('PATCH', `/api/views/${global.body.view.id}`, { name: 'Hijack' })).status
    ).toBe(403);
    // A manager may edit a view shared with everyone (and the audit log says who did).
    const renamed = await as.admin.request('PATCH', `/api/views/${global.body.view.id}`, { name: 'Renamed' });
    expect(renamed.body.view).toMatchObject({ name: 'Renamed', editable: true });
    const { rows } = await db.sql.query(
      `SELECT action, actor_user_id FROM audit_log WHERE target_type = 'saved_view' AND target_id = $1 ORDER BY id`,
      [String(global.body.view.id)]
    );
    expect(rows).toEqual([
      { action: 'view.created', actor_user_id: world.manager.id },
      { action: 'view.updated', actor_user_id: world.admin.id }
    ]);

    // The owner edits and deletes.
    const edited = await as.agentA.request('PATCH', `/api/views/${personal.body.view.id}`, {
      state: { ...state, sort: [{ field: 'name', dir: 'asc' }] }
    });
    expect(edited.body.view.state.sort).toEqual([{ field: 'name', dir: 'asc' }]);
    expect((await as.agentA.request('DELETE', `/api/views/${personal.body.view.id}`)).status).toBe(200);
    expect(await names(as.agentA)).not.toContain('My VIPs');
  });

  it('refuses a view whose state names what the list does not have', async () => {
    const bad = await as.agentA.post('/api/views', {
      name: 'Bad',
      entity: 'orders',
      state: { filter: { op: 'and', rules: [{ field: 'lifetimeSpend', operator: 'gt', value: '1' }] } }
    });
    expect(bad.status).toBe(400);
    expectErrorShape(bad.body);
    const view = await as.agentA.post('/api/views', { name: 'Ok', entity: 'orders', state: {} });
    expect(view.body.view.state).toEqual({ sort: [{ field: 'orderDate', dir: 'desc' }] });
    const patch = await as.agentA.request('PATCH', `/api/views/${view.body.view.id}`, {
      state: { sort: [{ field: 'tags', dir: 'asc' }] }
    });
    expect(patch.status).toBe(400);
    expectErrorShape(patch.body);
  });
});
