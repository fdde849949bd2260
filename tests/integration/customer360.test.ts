import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolDb } from '../../server/data/db.js';
import type { RunningPulse } from '../../server/pulse.js';
import { buildRfmBoundaries, ensureFresh, rfmProfileRange } from '../../server/services/analytics/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import {
  createCustomer,
  createLoyaltyAccount,
  createTicket,
  createWorld,
  earnPoints
} from '../support/fixtures.js';
import { Browser, expectErrorShape } from '../support/http.js';
import { startTestServer } from '../support/server.js';
import { closeSockets, connectSocket, openSocket, received, waitFor, whenReady } from '../support/socket.js';

// The customer 360 over HTTP and the live path: numbers against hand-computed fixtures, every
// edit validated and audited, the timeline merged, paginated and filtered by who may see what.

let db: TestDatabase;
let server: RunningPulse;
let world: Awaited<ReturnType<typeof createWorld>>;
let as: Record<'agentA' | 'agentB' | 'manager', Browser>;

const one = async <T = any>(sql: string, params: unknown[] = []) =>
  (await db.sql.query(sql, params)).rows[0] as T;
const all = async <T = any>(sql: string, params: unknown[] = []) =>
  (await db.sql.query(sql, params)).rows as T[];

/** An order placed `daysAgo` days ago (plain SQL, as a shop writes one). */
async function orderAt(customerId: number, total: string, status: string, daysAgo: number) {
  const row = await one<{ id: number }>(
    `INSERT INTO orders (customer_id, total, status, order_date) VALUES ($1, $2, $3, now() - make_interval(days => $4)) RETURNING id`,
    [customerId, total, status, daysAgo]
  );
  return row.id;
}

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  await db.sql.query(`UPDATE teams SET auto_assign = false`);
  server = await startTestServer(db.url);
  as = {
    agentA: await Browser.signedIn(server.url, world.agentA.email),
    agentB: await Browser.signedIn(server.url, world.agentB.email),
    manager: await Browser.signedIn(server.url, world.manager.email)
  };
});
afterAll(async () => {
  closeSockets();
  await server?.close();
  await db?.drop();
});

describe('the profile’s numbers', () => {
  it('adds up orders, tickets, CSAT, loyalty and spend by month as computed by hand', async () => {
    const id = await createCustomer(db.sql, 'numbers@example.com', 'Nora');
    // Counted: 100.00 and 50.50; refunded and cancelled orders are not sales.
    await orderAt(id, '100.00', 'delivered', 200);
    await orderAt(id, '50.50', 'shipped', 40);
    await orderAt(id, '30.00', 'refunded', 10);
    await orderAt(id, '19.50', 'cancelled', 5);
    const open = await createTicket(db.sql, { customerId: id, teamId: world.teamA });
    for (const [score, status] of [
      [4, 'resolved'],
      [5, 'closed']
    ] as const) {
      const t = await createTicket(db.sql, { customerId: id, teamId: world.teamA });
      await db.sql.query(
        `UPDATE tickets SET status = $2::ticket_status, resolved_at = now(), closed_at = CASE WHEN $2::text = 'closed' THEN now() END,
                csat_score = $3, csat_at = now() WHERE id = $1`,
        [t, status, score]
      );
    }
    const account = await createLoyaltyAccount(db.sql, id);
    await earnPoints(db.sql, { accountId: account, points: 2500, reason: 'Welcome', key: `n-${id}` });
    // The segment is placed against the RFM quintile ends of the last analytics refresh: refresh
    // now, as the background rollup would, so they include these orders.
    await ensureFresh(poolDb(db.sql), 'UTC');
    await buildRfmBoundaries(poolDb(db.sql), rfmProfileRange(new Date().toISOString().slice(0, 10), 'UTC'));

    const body = await as.agentA.getOk(`/api/customers/${id}`);
    const n = body.numbers;
    expect(n.lifetimeValue).toBe('150.50');
    expect(n.orders).toBe(4);
    expect(n.averageOrderValue).toBe('75.25');
    const dates = await one(
      `SELECT min(order_date) AS first, max(order_date) AS last FROM orders WHERE customer_id = $1`,
      [id]
    );
    expect(n.firstOrderAt).toBe(dates.first.toISOString());
    expect(n.lastOrderAt).toBe(dates.last.toISOString());
    expect(n.openTickets).toBe(1);
    expect(n.averageCsat).toBe(4.5);
    expect(n.csatResponses).toBe(2);
    expect(n.loyalty).toMatchObject({ tier: 'silver', balance: 2500, lifetimePoints: 2500 });
    expect(n.spendByMonth).toHaveLength(12);
    const spent = n.spendByMonth.filter((m: { orders: number }) => m.orders > 0);
    expect(spent.map((m: { revenue: string }) => m.revenue).sort()).toEqual(['100.00', '50.50']);
    const months = await all<{ m: string }>(
      `SELECT to_char(order_date AT TIME ZONE 'UTC', 'YYYY-MM') AS m FROM orders
        WHERE customer_id = $1 AND status NOT IN ('refunded', 'cancelled') ORDER BY 1`,
      [id]
    );
    expect(spent.map((m: { month: string }) => m.month)).toEqual(months.map((r) => r.m));
    expect(open).toBeGreaterThan(0);

    // The segment is the RFM report's own: the report's drill of that segment lists the customer.
    expect(n.rfmSegment).toMatch(/^(champions|loyal|promising|needs_attention|at_risk|hibernating)$/);
    const today = new Date().toISOString().slice(0, 10);
    const from = new Date(Date.now() - 364 * 86_400_000).toISOString().slice(0, 10);
    const drill = await as.manager.getOk(
      `/api/analytics/customers?kind=segment&segment=${n.rfmSegment}&from=${from}&to=${today}&pageSize=500`
    );
    expect(JSON.stringify(drill)).toContain('numbers@example.com');
  });

  it('places each buyer in the RFM segment the analytics report gives them', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 14; i++) {
      const id = await createCustomer(db.sql, `rfm${i}@example.com`, `Rfm${i}`);
      for (let k = 0; k <= i % 5; k++)
        await orderAt(id, `${10 + ((i * 37 + k * 11) % 200)}.00`, 'paid', 2 + ((i * 29 + k * 7) % 330));
      ids.push(id);
    }
    await ensureFresh(poolDb(db.sql), 'UTC');
    const today = new Date().toISOString().slice(0, 10);
    await buildRfmBoundaries(poolDb(db.sql), rfmProfileRange(today, 'UTC'));
    const from = new Date(Date.now() - 364 * 86_400_000).toISOString().slice(0, 10);
    const reported = new Map<number, string>();
    for (const segment of ['champions', 'loyal', 'promising', 'needs_attention', 'at_risk', 'hibernating']) {
      const drill = await as.manager.getOk(
        `/api/analytics/customers?kind=segment&segment=${segment}&from=${from}&to=${today}&pageSize=500`
      );
      for (const c of drill.customers as { id: number }[]) reported.set(c.id, segment);
    }
    const placed = new Map<number, string>();
    for (const id of ids) placed.set(id, (await as.manager.getOk(`/api/customers/${id}`)).numbers.rfmSegment);
    expect(placed).toEqual(new Map(ids.map((id) => [id, reported.get(id)])));
    // Not all in one segment, or the comparison would show little.
    expect(new Set(placed.values()).size).toBeGreaterThan(2);
  });

  it('a customer without orders has no averages, no segment and twelve empty months', async () => {
    const id = await createCustomer(db.sql, 'empty@example.com', 'Emma');
    const { numbers } = await as.agentB.getOk(`/api/customers/${id}`);
    expect(numbers).toMatchObject({
      lifetimeValue: '0.00',
      orders: 0,
      averageOrderValue: null,
      firstOrderAt: null,
      rfmSegment: null,
      loyalty: null,
      averageCsat: null
    });
    expect(numbers.spendByMonth.every((m: { revenue: string }) => m.revenue === '0.00')).toBe(true);
  });
});

describe('editing the profile', () => {
  let id: number;
  let version: number;

  beforeAll(async () => {
    id = await createCustomer(db.sql, 'edit@example.com', 'Eddie');
    const res = await as.manager.post('/api/custom-attributes', {
      key: 'shoe_size',
      label: 'Shoe size',
      type: 'number'
    });
    expect(res.status).toBe(201);
    for (const def of [
      { key: 'plan', label: 'Plan', type: 'choice', options: ['basic', 'plus'] },
      { key: 'credit', label: 'Store credit', type: 'money' },
      { key: 'birthday', label: 'Birthday', type: 'date' },
      { key: 'vip_since', label: 'VIP', type: 'boolean' }
    ])
      expect((await as.manager.post('/api/custom-attributes', def)).status).toBe(201);
    version = (await as.agentA.getOk(`/api/customers/${id}`)).customer.version;
  });

  const patch = (body: object) => as.agentA.request('PATCH', `/api/customers/${id}`, { version, ...body });

  it.each([
    ['a bad email', { email: 'not-an-email' }, 'email'],
    ['an unknown attribute', { attributes: { favourite_colour: 'red' } }, 'attributes.favourite_colour'],
    ['a number attribute given text', { attributes: { shoe_size: 'forty' } }, 'attributes.shoe_size'],
    ['a choice not in its options', { attributes: { plan: 'gold' } }, 'attributes.plan'],
    ['money with three decimals', { attributes: { credit: '1.005' } }, 'attributes.credit'],
    ['a date that does not exist', { attributes: { birthday: '2026-02-30' } }, 'attributes.birthday'],
    ['an empty first name', { firstName: '  ' }, 'firstName'],
    ['a birth date that does not exist', { birthDate: '1990-02-30' }, 'birthDate'],
    ['a birth date in the future', { birthDate: `${new Date().getUTCFullYear() + 1}-01-01` }, 'birthDate']
  ])('refuses %s with a 400 naming the field, and changes nothing', async (_what, body, field) => {
    const before = await one(`SELECT * FROM customers WHERE id = $1`, [id]);
    const res = await patch(body);
    expect(res.status).toBe(400);
    expectErrorShape(res.body);
    expect(res.body.error.code).toBe('validation_failed');
    expect(JSON.stringify(res.body.error.details)).toContain(field);
    expect(await one(`SELECT * FROM customers WHERE id = $1`, [id])).toEqual(before);
  });

  it('saves valid edits, audits each field’s old and new value, and logs who did it', async () => {
    const res = await patch({
      firstName: 'Edwina',
      birthDate: '1990-06-15',
      tags: ['vip', 'wholesale'],
      attributes: { shoe_size: 42, plan: 'plus', credit: '12.5', birthday: '1990-05-17', vip_since: true }
    });
    expect(res.status).toBe(200);
    expect(res.body.customer).toMatchObject({
      firstName: 'Edwina',
      birthDate: '1990-06-15',
      tags: ['vip', 'wholesale'],
      attributes: { shoe_size: 42, plan: 'plus', credit: '12.50', birthday: '1990-05-17', vip_since: true },
      version: version + 1
    });
    const audit = await one(
      `SELECT * FROM audit_log WHERE action = 'customer.updated' AND target_id = $1 ORDER BY id DESC LIMIT 1`,
      [String(id)]
    );
    expect(audit.actor_user_id).toBe(world.agentA.id);
    expect(audit.details.changes.firstName).toEqual({ old: 'Eddie', new: 'Edwina' });
    expect(audit.details.changes['attributes.plan']).toEqual({ old: null, new: 'plus' });
    const changes = await all(
      `SELECT field, old, new, actor_user_id FROM customer_changes WHERE customer_id = $1`,
      [id]
    );
    expect(changes).toContainEqual({
      field: 'first_name',
      old: 'Eddie',
      new: 'Edwina',
      actor_user_id: world.agentA.id
    });
    expect(changes).toContainEqual({
      field: 'birth_date',
      old: null,
      new: '1990-06-15',
      actor_user_id: world.agentA.id
    });
    expect(changes).toContainEqual({
      field: 'attributes.credit',
      old: null,
      new: '12.50',
      actor_user_id: world.agentA.id
    });
    version = res.body.customer.version;
  });

  it('refuses an edit made against an older version with a 409 carrying the current profile', async () => {
    const stale = await as.manager.request('PATCH', `/api/customers/${id}`, {
      version: version - 1,
      lastName: 'Late'
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('stale_version');
    expect(stale.body.error.details.customer.version).toBe(version);
    expect((await one(`SELECT last_name FROM customers WHERE id = $1`, [id])).last_name).toBe('Tester');
  });

  it('removes an attribute value with null, and a taken email is a 409', async () => {
    const removed = await patch({ attributes: { shoe_size: null } });
    expect(removed.status).toBe(200);
    expect(removed.body.customer.attributes).not.toHaveProperty('shoe_size');
    version = removed.body.customer.version;
    const taken = await patch({ email: 'casey@example.com' });
    expect(taken.status).toBe(409);
  });

  it('shows a psql UPDATE in the timeline as a profile edit by no one', async () => {
    await db.sql.query(`UPDATE customers SET last_name = 'Psql' WHERE id = $1`, [id]);
    const { items } = await as.agentA.getOk(`/api/customers/${id}/timeline?kinds=profile`);
    expect(items[0]).toMatchObject({
      kind: 'profile',
      field: 'last_name',
      old: 'Tester',
      new: 'Psql',
      actor: null
    });
    const byAgent = items.find((i: { field: string }) => i.field === 'first_name');
    expect(byAgent.actor).toEqual({ id: world.agentA.id, name: 'Agent A' });
  });

  it('manages other emails and phones: add, refuse duplicates and bad values, make primary, remove', async () => {
    const bad = await as.agentA.post(`/api/customers/${id}/contacts`, { kind: 'email', value: 'nope' });
    expect(bad.status).toBe(400);
    const added = await as.agentA.post(`/api/customers/${id}/contacts`, {
      kind: 'email',
      value: 'Eddie.Work@Example.com',
      label: 'work'
    });
    expect(added.status).toBe(201);
    expect(added.body.contact).toMatchObject({ normalized: 'eddie.work@example.com', label: 'work' });
    const again = await as.agentA.post(`/api/customers/${id}/contacts`, {
      kind: 'email',
      value: 'eddie.work@example.com'
    });
    expect(again.status).toBe(409);
    const primaryAgain = await as.agentA.post(`/api/customers/${id}/contacts`, {
      kind: 'email',
      value: 'EDIT@example.com'
    });
    expect(primaryAgain.status).toBe(409);

    const swapped = await as.agentA.request('PATCH', `/api/customer-contacts/${added.body.contact.id}`, {
      version: added.body.contact.version,
      primary: true
    });
    expect(swapped.status).toBe(200);
    expect(swapped.body.customer.email).toBe('Eddie.Work@Example.com');
    expect(swapped.body.contact.value).toBe('edit@example.com');
    const audit = await one(
      `SELECT details FROM audit_log WHERE action = 'customer.contact_made_primary' AND target_id = $1`,
      [String(id)]
    );
    expect(audit.details).toMatchObject({
      kind: 'email',
      old: 'edit@example.com',
      new: 'Eddie.Work@Example.com'
    });

    const phone = await as.agentA.post(`/api/customers/${id}/contacts`, {
      kind: 'phone',
      value: '+1 (555) 010-2030'
    });
    expect(phone.body.contact.normalized).toBe('15550102030');
    const gone = await as.agentB.request('DELETE', `/api/customer-contacts/${phone.body.contact.id}`);
    expect(gone.status).toBe(200);
    const history = await all(
      `SELECT field, old, new FROM customer_changes WHERE customer_id = $1 AND field LIKE 'contacts.%' ORDER BY id`,
      [id]
    );
    expect(history).toContainEqual({ field: 'contacts.phone', old: '+1 (555) 010-2030', new: null });
    expect(
      await one(
        `SELECT count(*)::int AS n FROM audit_log WHERE action = 'customer.contact_removed' AND target_id = $1`,
        [String(id)]
      )
    ).toEqual({ n: 1 });
  });

  it('records consent per channel as history, with the current one per channel and the old column kept', async () => {
    const granted = await as.agentA.post(`/api/customers/${id}/consents`, {
      channel: 'email',
      granted: true
    });
    expect(granted.status).toBe(201);
    expect(granted.body.consent).toMatchObject({
      channel: 'email',
      granted: true,
      source: 'agent',
      actor: { id: world.agentA.id }
    });
    await as.agentA.post(`/api/customers/${id}/consents`, { channel: 'sms', granted: true });
    const withdrawn = await as.agentB.post(`/api/customers/${id}/consents`, {
      channel: 'email',
      granted: false,
      note: 'asked by phone'
    });
    expect(withdrawn.status).toBe(201);
    const { consent, customer } = await as.agentA.getOk(`/api/customers/${id}`);
    expect(consent.email).toMatchObject({
      granted: false,
      source: 'agent',
      note: 'asked by phone',
      actor: { id: world.agentB.id }
    });
    expect(consent.sms).toMatchObject({ granted: true });
    expect(consent.push).toBeNull();
    expect(customer.marketingConsent).toBe(false);
    const { consents } = await as.agentA.getOk(`/api/customers/${id}/consents`);
    expect(consents.map((c: { channel: string; granted: boolean }) => `${c.channel}:${c.granted}`)).toEqual([
      'email:false',
      'sms:true',
      'email:true'
    ]);
    // A writer of the old column leaves evidence too.
    await db.sql.query(
      `UPDATE customers SET marketing_consent = true, marketing_consent_at = now() WHERE id = $1`,
      [id]
    );
    const after = await as.agentA.getOk(`/api/customers/${id}`);
    expect(after.consent.email).toMatchObject({ granted: true, source: 'import', actor: null });
    const badChannel = await as.agentA.post(`/api/customers/${id}/consents`, {
      channel: 'fax',
      granted: true
    });
    expect(badChannel.status).toBe(400);
  });

  it('keeps authored notes, searchable, removable by their author or a manager only', async () => {
    const note = await as.agentA.post(`/api/customers/${id}/notes`, {
      body: 'Prefers deliveries after 6pm, ring twice'
    });
    expect(note.status).toBe(201);
    expect(note.body.note.author).toEqual({ id: world.agentA.id, name: 'Agent A' });
    await as.agentB.post(`/api/customers/${id}/notes`, { body: 'Allergic to latex packaging' });
    const found = await as.agentA.getOk(`/api/customers/${id}/notes?q=deliv`);
    expect(found.notes.map((n: { body: string }) => n.body)).toEqual([
      'Prefers deliveries after 6pm, ring twice'
    ]);
    expect((await as.agentA.post(`/api/customers/${id}/notes`, { body: '   ' })).status).toBe(400);
    const byOther = await as.agentB.request('DELETE', `/api/customer-notes/${note.body.note.id}`);
    expect(byOther.status).toBe(403);
    const byManager = await as.manager.request('DELETE', `/api/customer-notes/${note.body.note.id}`);
    expect(byManager.status).toBe(200);
    const audit = await one(
      `SELECT details FROM audit_log WHERE action = 'customer.note_removed' AND target_id = $1`,
      [String(id)]
    );
    expect(audit.details.old).toBe('Prefers deliveries after 6pm, ring twice');
  });
});

describe('custom attribute definitions', () => {
  it('are managed by managers and admins only, and validated', async () => {
    const byAgent = await as.agentA.post('/api/custom-attributes', {
      key: 'x_agent',
      label: 'X',
      type: 'text'
    });
    expect(byAgent.status).toBe(403);
    const noOptions = await as.manager.post('/api/custom-attributes', {
      key: 'tier_pick',
      label: 'Pick',
      type: 'choice'
    });
    expect(noOptions.status).toBe(400);
    const badKey = await as.manager.post('/api/custom-attributes', {
      key: 'Bad Key',
      label: 'B',
      type: 'text'
    });
    expect(badKey.status).toBe(400);
    const created = await as.manager.post('/api/custom-attributes', {
      key: 'channel_pref',
      label: 'Channel',
      type: 'choice',
      options: ['store', 'online']
    });
    expect(created.status).toBe(201);
    const dup = await as.manager.post('/api/custom-attributes', {
      key: 'channel_pref',
      label: 'Again',
      type: 'text'
    });
    expect(dup.status).toBe(409);
    const patched = await as.manager.request('PATCH', `/api/custom-attributes/${created.body.attribute.id}`, {
      label: 'Preferred channel',
      options: ['store', 'online', 'phone']
    });
    expect(patched.body.attribute).toMatchObject({
      label: 'Preferred channel',
      options: ['store', 'online', 'phone']
    });
    const listed = await as.agentA.getOk('/api/custom-attributes');
    expect(listed.attributes.map((a: { key: string }) => a.key)).toContain('channel_pref');
    const audit = await one(
      `SELECT details FROM audit_log WHERE action = 'custom_attribute.updated' AND target_id = $1`,
      [String(created.body.attribute.id)]
    );
    expect(audit.details.old.label).toBe('Channel');
    expect(
      (await as.manager.request('DELETE', `/api/custom-attributes/${created.body.attribute.id}`)).status
    ).toBe(200);
    expect(
      (await as.manager.request('DELETE', `/api/custom-attributes/${created.body.attribute.id}`)).status
    ).toBe(404);
  });
});

describe('the timeline', () => {
  let id: number;
  let ticketA: number;

  beforeAll(async () => {
    id = await createCustomer(db.sql, 'timeline@example.com', 'Tim');
    const order = await orderAt(id, '80.00', 'paid', 3);
    await db.sql.query(`UPDATE orders SET status = 'shipped' WHERE id = $1`, [order]);
    ticketA = await createTicket(db.sql, { customerId: id, teamId: world.teamA, subject: 'Parcel late' });
    await db.sql.query(
      `INSERT INTO ticket_messages (ticket_id, author_type, author_user_id, body, internal) VALUES
         ($1, 'customer', NULL, 'Where is it?', false), ($1, 'agent', $2, 'Courier says Tuesday (internal)', true)`,
      [ticketA, world.agentA.id]
    );
    const account = await createLoyaltyAccount(db.sql, id);
    await earnPoints(db.sql, {
      accountId: account,
      points: 80,
      reason: 'Order',
      key: `t-${id}`,
      orderId: order
    });
    await as.agentA.post(`/api/customers/${id}/notes`, { body: 'Called about the parcel' });
  });

  it('merges every kind newest first, and pages through it without gaps or repeats', async () => {
    const full = await as.manager.getOk(`/api/customers/${id}/timeline?limit=100`);
    const kinds = new Set(full.items.map((i: { kind: string }) => i.kind));
    for (const k of ['order_placed', 'order_status', 'ticket_opened', 'ticket_message', 'loyalty', 'note'])
      expect(kinds).toContain(k);
    const times = full.items.map((i: { at: string }) => Date.parse(i.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(full.next).toBeNull();

    const paged: string[] = [];
    let before: string | null = null;
    do {
      const page: { items: { key: string }[]; next: string | null } = await as.manager.getOk(
        `/api/customers/${id}/timeline?limit=2${before ? `&before=${before}` : ''}`
      );
      expect(page.items.length).toBeLessThanOrEqual(2);
      paged.push(...page.items.map((i) => i.key));
      before = page.next;
    } while (before);
    expect(paged).toEqual(full.items.map((i: { key: string }) => i.key));

    const onlyOrders = await as.manager.getOk(
      `/api/customers/${id}/timeline?kinds=order_placed,order_status`
    );
    expect(onlyOrders.items.map((i: { kind: string }) => i.kind).sort()).toEqual([
      'order_placed',
      'order_status'
    ]);
    expect(onlyOrders.items.find((i: { kind: string }) => i.kind === 'order_status')).toMatchObject({
      from: 'paid',
      to: 'shipped',
      actor: null
    });
  });

  it('refuses an unknown kind or a cursor it did not give with a 400', async () => {
    for (const q of [
      'kinds=orders;drop',
      'before=not-a-cursor',
      `before=${Buffer.from('x|y|z').toString('base64url')}`
    ]) {
      const res = await as.manager.get(`/api/customers/${id}/timeline?${q}`);
      expect(res.status).toBe(400);
      expectErrorShape(res.body);
    }
  });

  it('shows a team’s conversation, internal notes included, to that team and managers only', async () => {
    const messages = async (who: Browser) =>
      (await who.getOk(`/api/customers/${id}/timeline?kinds=ticket_message,ticket_opened`)).items;
    const forA = await messages(as.agentA);
    expect(forA.some((i: { internal?: boolean }) => i.internal)).toBe(true);
    const forManager = await messages(as.manager);
    expect(forManager.some((i: { internal?: boolean }) => i.internal)).toBe(true);
    const forB = await messages(as.agentB);
    expect(forB).toEqual([]);
    const tickets = await as.agentB.getOk(`/api/customers/${id}/tickets`);
    expect(tickets.rows[0]).toMatchObject({ id: ticketA, href: null });
    expect(JSON.stringify(tickets)).not.toContain('Parcel late');
    const mine = await as.agentA.getOk(`/api/customers/${id}/tickets`);
    expect(mine.rows[0]).toMatchObject({
      id: ticketA,
      subject: 'Parcel late',
      href: `/console/tickets/${ticketA}`
    });
  });

  it('lists orders and loyalty entries with links', async () => {
    const orders = await as.agentB.getOk(`/api/customers/${id}/orders`);
    expect(orders.rows[0]).toMatchObject({
      status: 'shipped',
      total: '80.00',
      href: `/orders/${orders.rows[0].id}`
    });
    const loyalty = await as.agentB.getOk(`/api/customers/${id}/loyalty?limit=1`);
    expect(loyalty.rows[0]).toMatchObject({
      kind: 'earn',
      points: 80,
      orderHref: `/orders/${orders.rows[0].id}`
    });
  });
});

describe('live', () => {
  it('a refund committed while a socket watches the customer delivers the order change, the reversal and the tier drop', async () => {
    const id = await createCustomer(db.sql, 'live@example.com', 'Liv');
    const order = await orderAt(id, '2100.00', 'delivered', 2);
    const account = await createLoyaltyAccount(db.sql, id);
    await earnPoints(db.sql, {
      accountId: account,
      points: 2100,
      reason: 'Order',
      key: `l-${id}`,
      orderId: order
    });
    expect((await one(`SELECT tier FROM loyalty_accounts WHERE id = $1`, [account])).tier).toBe('silver');

    const socket = await openSocket(server.url, as.agentB);
    const ack: any = await socket.timeout(5000).emitWithAck('customer:watch', id);
    expect(ack).toEqual({ data: { ok: true } });

    const client = await db.sql.connect();
    try {
      await client.query('BEGIN');
      await client.query(`UPDATE orders SET status = 'refunded' WHERE id = $1`, [order]);
      await client.query(`SELECT loyalty_reverse_order($1)`, [order]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const status = await waitFor(socket, 'order:status_changed', (e) => e.data.orderId === order);
    expect(status.data).toMatchObject({
      from: 'delivered',
      to: 'refunded',
      customerId: id,
      actorUserId: null
    });
    const reversal = await waitFor(
      socket,
      'loyalty:changed',
      (e) => e.entry?.kind === 'reverse' && e.customerId === id
    );
    expect(reversal.entry.points).toBe(-2100);
    const tier = await waitFor(socket, 'loyalty:tier_changed', (e) => e.data.customerId === id);
    expect(tier.data).toMatchObject({ from: 'silver', to: 'bronze' });
    // The same three are in the timeline a reload shows.
    const { items } = await as.agentB.getOk(`/api/customers/${id}/timeline?kinds=order_status,loyalty,tier`);
    expect(items.map((i: { key: string }) => i.key)).toEqual(
      expect.arrayContaining([
        `order_status:${status.data.id}`,
        `loyalty:${reversal.entry.id}`,
        `tier:${tier.data.id}`
      ])
    );
  });

  it('profile edits, notes and consent reach the watchers of that customer only', async () => {
    const id = await createCustomer(db.sql, 'watched@example.com', 'Wade');
    const other = await createCustomer(db.sql, 'unwatched@example.com', 'Olga');
    const socket = await openSocket(server.url, as.agentA);
    await socket.timeout(5000).emitWithAck('customer:watch', id);
    const { customer } = await as.manager.getOk(`/api/customers/${id}`);
    await as.manager.request('PATCH', `/api/customers/${id}`, { version: customer.version, language: 'fr' });
    const changed = await waitFor(socket, 'customer:profile_changed', (e) => e.data.customerId === id);
    expect(changed.data).toMatchObject({
      field: 'language',
      old: 'en',
      new: 'fr',
      actorUserId: world.manager.id
    });
    await as.manager.post(`/api/customers/${id}/notes`, { body: 'VIP at the flagship store' });
    const note = await waitFor(socket, 'customer:note_added', (e) => e.data.customerId === id);
    expect(note.data.body).toBe('VIP at the flagship store');
    await as.manager.post(`/api/customers/${id}/consents`, { channel: 'push', granted: true });
    await waitFor(
      socket,
      'customer:consent_recorded',
      (e) => e.data.customerId === id && e.data.channel === 'push'
    );
    // A change of another customer is not sent to this room: a fence event after it proves it.
    await db.sql.query(`UPDATE customers SET language = 'de' WHERE id = $1`, [other]);
    await db.sql.query(`UPDATE customers SET language = 'es' WHERE id = $1`, [id]);
    await waitFor(socket, 'customer:profile_changed', (e) => e.data.customerId === id && e.data.new === 'es');
    const about = received<{ data: { customerId: number } }>(socket, 'customer:profile_changed').map(
      (e) => e.data.customerId
    );
    expect(about).not.toContain(other);
  });
});

describe('what a merge moves', () => {
  it('consent rows move to another customer but never change otherwise, and the survivor’s summary follows', async () => {
    const from = await createCustomer(db.sql, 'merged-away@example.com', 'Mae');
    const to = await createCustomer(db.sql, 'survivor@example.com', 'Sam');
    await db.sql.query(
      `INSERT INTO customer_consents (customer_id, channel, granted, at, source) VALUES ($1, 'email', true, now(), 'checkout')`,
      [from]
    );
    await expect(
      db.sql.query(`UPDATE customer_consents SET granted = false WHERE customer_id = $1`, [from])
    ).rejects.toThrow(/append-only/);
    await db.sql.query(`UPDATE customer_consents SET customer_id = $2 WHERE customer_id = $1`, [from, to]);
    await db.sql.query(`SELECT customer_consent_refresh($1)`, [to]);
    const survivor = await one(`SELECT marketing_consent FROM customers WHERE id = $1`, [to]);
    expect(survivor.marketing_consent).toBe(true);
    // The refresh is not a new grant: no evidence row is invented.
    expect(
      await one(`SELECT count(*)::int AS n FROM customer_consents WHERE customer_id = $1`, [to])
    ).toEqual({ n: 1 });
  });

  it('an order moved to another customer takes its status history along', async () => {
    const from = await createCustomer(db.sql, 'order-from@example.com', 'Fay');
    const to = await createCustomer(db.sql, 'order-to@example.com', 'Tom');
    const order = await orderAt(from, '5.00', 'paid', 1);
    await db.sql.query(`UPDATE orders SET status = 'shipped' WHERE id = $1`, [order]);
    await db.sql.query(`UPDATE orders SET customer_id = $2 WHERE id = $1`, [order, to]);
    expect(await all(`SELECT customer_id FROM order_status_changes WHERE order_id = $1`, [order])).toEqual([
      { customer_id: to }
    ]);
  });
});

describe('resuming', () => {
  it('a tab that was offline gets the customer’s history it missed, from the position of its REST state', async () => {
    const id = await createCustomer(db.sql, 'resume@example.com', 'Rhea');
    const order = await orderAt(id, '40.00', 'paid', 1);
    const res = await as.agentA.get(`/api/customers/${id}`);
    const horizon = res.headers.get('pulse-horizon')!;
    expect(horizon).toMatch(/^\d+:\d+:/);
    // While no socket is open: a psql edit, a refund, a note.
    await db.sql.query(`UPDATE customers SET first_name = 'Rhiannon' WHERE id = $1`, [id]);
    await db.sql.query(`UPDATE orders SET status = 'refunded' WHERE id = $1`, [order]);
    await db.sql.query(`INSERT INTO customer_notes (customer_id, body) VALUES ($1, 'Left a voicemail')`, [
      id
    ]);
    const socket = connectSocket(server.url, as.agentA.cookie, { horizon, watch: { customers: [id] } });
    await whenReady(socket);
    const edit = await waitFor(socket, 'customer:profile_changed', (e) => e.data.customerId === id);
    expect(edit.data).toMatchObject({ field: 'first_name', old: 'Rhea', new: 'Rhiannon', actorUserId: null });
    await waitFor(
      socket,
      'order:status_changed',
      (e) => e.data.orderId === order && e.data.to === 'refunded'
    );
    await waitFor(socket, 'customer:note_added', (e) => e.data.customerId === id);
  });
});

describe('access', () => {
  it('agents and managers both see and edit customers; custom attributes need a manager', async () => {
    const id = await createCustomer(db.sql, 'access@example.com', 'Ace');
    for (const who of [as.agentA, as.agentB, as.manager]) {
      const res = await who.get(`/api/customers/${id}`);
      expect(res.status).toBe(200);
    }
    expect((await as.agentA.request('DELETE', '/api/custom-attributes/1')).status).toBe(403);
  });

  it('an unknown customer is a 404 on every route', async () => {
    const missing = 2_000_000_000;
    for (const path of ['', '/timeline', '/orders', '/tickets', '/loyalty', '/consents', '/notes']) {
      const res = await as.manager.get(`/api/customers/${missing}${path}`);
      expect(res.status).toBe(404);
      expectErrorShape(res.body);
    }
    expect(
      (await as.manager.request('PATCH', `/api/customers/${missing}`, { version: 1, firstName: 'X' })).status
    ).toBe(404);
    expect((await as.manager.post(`/api/customers/${missing}/notes`, { body: 'x' })).status).toBe(404);
    expect((await as.manager.request('DELETE', `/api/customer-contacts/${missing}`)).status).toBe(404);
    const anonymous = new Browser(server.url);
    expect((await anonymous.get(`/api/customers/${world.customerId}`)).status).toBe(401);
  });
});
