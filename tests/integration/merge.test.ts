import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPulse } from '../../server/pulse.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import {
  createLoyaltyAccount,
  createOrder,
  createTicket,
  createWorld,
  earnPoints
} from '../support/fixtures.js';
import { Browser, expectErrorShape } from '../support/http.js';
import { startTestServer } from '../support/server.js';
import { closeSockets, connectSocket, waitFor, whenReady } from '../support/socket.js';

const TOKEN = 'integration-token-for-tests-0123456789';
let db: TestDatabase;
let server: RunningPulse;
let world: Awaited<ReturnType<typeof createWorld>>;
let as: Record<'agent' | 'manager' | 'admin', Browser>;

const one = async <T = any>(sql: string, params: unknown[] = []) =>
  (await db.sql.query(sql, params)).rows[0] as T;
const all = async <T = any>(sql: string, params: unknown[] = []) =>
  (await db.sql.query(sql, params)).rows as T[];

let productSeq = 0;
async function product(): Promise<number> {
  productSeq += 1;
  const row = await one<{ id: number }>(
    `INSERT INTO products (sku, name, price) VALUES ($1, $2, 10) RETURNING id`,
    [`MRG-${productSeq}`, `Product ${productSeq}`]
  );
  return row.id;
}

async function customer(c: {
  email: string;
  first: string;
  last?: string;
  phone?: string | null;
  postcode?: string;
  tags?: string[];
  notes?: string;
}): Promise<number> {
  const row = await one<{ id: number }>(
    `INSERT INTO customers (email, first_name, last_name, phone, addresses, tags, notes)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
    [
      c.email,
      c.first,
      c.last ?? 'Tester',
      c.phone ?? null,
      JSON.stringify(c.postcode ? [{ label: 'home', line1: '1 Main St', postal_code: c.postcode }] : []),
      c.tags ?? [],
      c.notes ?? ''
    ]
  );
  return row.id;
}

const versions = async (survivor: number, merged: number) => {
  const rows = await all<{ id: number; version: number }>(
    `SELECT id, version FROM customers WHERE id = ANY($1)`,
    [[survivor, merged]]
  );
  return {
    survivor: rows.find((r) => r.id === survivor)!.version,
    merged: rows.find((r) => r.id === merged)!.version
  };
};

const merge = async (who: Browser, survivor: number, merged: number, choices: object = {}) =>
  who.post(`/api/customers/${survivor}/merge`, {
    mergedId: merged,
    choices,
    expectedVersions: await versions(survivor, merged)
  });

/** Balance, lifetime and tier of an account against what its ledger says. */
const ledgerHolds = async () =>
  one<{ bad: number }>(
    `SELECT count(*)::int AS bad FROM loyalty_accounts a
      WHERE a.balance <> (SELECT coalesce(sum(points), 0) FROM loyalty_ledger l WHERE l.account_id = a.id)
         OR a.tier <> loyalty_tier_for(a.lifetime_points)`
  );

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  server = await startTestServer(db.url, { INTEGRATION_TOKEN: TOKEN });
  as = {
    agent: await Browser.signedIn(server.url, world.agentA.email),
    manager: await Browser.signedIn(server.url, world.manager.email),
    admin: await Browser.signedIn(server.url, world.admin.email)
  };
});
afterAll(async () => {
  closeSockets();
  await server?.close();
  await db?.drop();
});

describe('duplicate suggestions', () => {
  it('finds the same email (gmail dots and +tags), the same phone and a similar name at one postcode', async () => {
    const base = await customer({
      email: 'Jane.Doe+shop@gmail.com',
      first: 'Jane',
      last: 'Doe',
      phone: '+1 (415) 555-0134',
      postcode: '94110'
    });
    const byEmail = await customer({ email: 'janedoe@googlemail.com', first: 'J', last: 'D' });
    const byPhone = await customer({ email: 'other@example.com', first: 'Someone', phone: '415-555-0134' });
    const byName = await customer({ email: 'jd@example.org', first: 'Jane', last: 'Do', postcode: '94 110' });
    const farAway = await customer({
      email: 'jd2@example.org',
      first: 'Jane',
      last: 'Doe',
      postcode: '10001'
    });
    const byContact = await customer({ email: 'work@example.com', first: 'Someone', last: 'Else' });
    await db.sql.query(
      `INSERT INTO customer_contacts (customer_id, kind, value) VALUES ($1, 'email', 'JANE.DOE@gmail.com')`,
      [byContact]
    );

    const res = await as.agent.get(`/api/customers/${base}/duplicates`);
    expect(res.status).toBe(200);
    const found = Object.fromEntries(
      res.body.candidates.map((c: any) => [c.customer.id, { reasons: c.reasons, score: c.score }])
    );
    expect(found[byEmail]).toEqual({ reasons: ['email'], score: 1 });
    expect(found[byPhone].reasons).toEqual(['phone']);
    expect(found[byPhone].score).toBeGreaterThanOrEqual(0.7);
    expect(found[byName].reasons).toEqual(['name_postcode']);
    expect(found[farAway]).toBeUndefined();
    expect(found[byContact]).toEqual({ reasons: ['email'], score: 1 });
    // Best first.
    expect(res.body.candidates[0].score).toBe(1);

    // The screen lists the same pairs; dismissing one removes it from both.
    const pairs: any[] = [];
    let cursor: string | null = null;
    do {
      const page = await as.manager.getOk(`/api/duplicates?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      pairs.push(...page.pairs);
      cursor = page.nextCursor;
    } while (cursor);
    const key = (p: any) => [p.a.id, p.b.id].join('-');
    expect(new Set(pairs.map(key)).size).toBe(pairs.length);
    expect(pairs.map(key)).toEqual(
      expect.arrayContaining([
        `${base}-${byEmail}`,
        `${base}-${byName}`,
        `${base}-${byContact}`,
        `${base}-${byPhone}`
      ])
    );
    const scores = pairs.map((p) => p.score);
    expect(scores).toEqual([...scores].sort((x, y) => y - x));

    expect((await as.agent.post('/api/duplicates/dismiss', { customerIds: [byName, base] })).status).toBe(
      403
    );
    const dismissed = await as.manager.post('/api/duplicates/dismiss', { customerIds: [byName, base] });
    expect(dismissed.status).toBe(200);
    const after = await as.agent.getOk(`/api/customers/${base}/duplicates`);
    expect(after.candidates.map((c: any) => c.customer.id)).not.toContain(byName);
    const list = await as.manager.getOk(`/api/duplicates?limit=100`);
    expect(list.pairs.map(key)).not.toContain(`${base}-${byName}`);
    expect(
      await one(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'customer.duplicate_dismissed'`)
    ).toEqual({
      n: 1
    });
  });

  it('compares phones in E.164 with the default region (US): formats match, other countries do not', async () => {
    const ids = async (id: number) =>
      (await as.manager.getOk(`/api/customers/${id}/duplicates`)).candidates.map((c: any) => c.customer.id);
    const e164 = async (id: number) =>
      (await one<{ phone_e164: string | null }>(`SELECT phone_e164 FROM customers WHERE id = $1`, [id]))
        .phone_e164;

    // Written by SQL (the database's fallback): the same US number in two formats.
    const a = await customer({ email: 'e164.a@example.com', first: 'Ava', phone: '+1 (415) 555-0100' });
    const b = await customer({ email: 'e164.b@example.com', first: 'Bea', phone: '415-555-0100' });
    expect([await e164(a), await e164(b)]).toEqual(['+14155550100', '+14155550100']);
    expect(await ids(a)).toContain(b);

    // A London number and a US number with the same last nine digits (079460958) are two phones,
    // though comparing the last nine digits (migration 0017) called them one.
    const london = await customer({ email: 'e164.gb@example.com', first: 'Gwen', phone: '+44 20 7946 0958' });
    const maine = await customer({ email: 'e164.us@example.com', first: 'Moe', phone: '(207) 946-0958' });
    expect(await e164(london)).toBe('+442079460958');
    expect(await e164(maine)).toBe('+12079460958');
    expect(
      await one<{ same: boolean }>(`SELECT normalize_phone($1) = normalize_phone($2) AS same`, [
        '+44 20 7946 0958',
        '(207) 946-0958'
      ])
    ).toEqual({ same: true });
    expect(await ids(london)).not.toContain(maine);
    expect(await ids(maine)).not.toContain(london);

    // Edited through the API (libphonenumber): a national number is read in the default region...
    const edit = async (id: number, phone: string) => {
      const { customer: current } = await as.manager.getOk(`/api/customers/${id}`);
      const res = await as.manager.request('PATCH', `/api/customers/${id}`, {
        version: current.version,
        phone
      });
      expect(res.status).toBe(200);
    };
    await edit(maine, '207 946 0958');
    expect(await e164(maine)).toBe('+12079460958');
    expect(await ids(london)).not.toContain(maine);
    // ...and an international one as written: now it is the London number.
    await edit(maine, '+44 (0)20 7946 0958');
    expect(await e164(maine)).toBe('+442079460958');
    expect(await ids(london)).toContain(maine);
    // Other phones (contacts) compare the same way.
    await db.sql.query(
      `INSERT INTO customer_contacts (customer_id, kind, value) VALUES ($1, 'phone', '4155550100')`,
      [london]
    );
    expect(await ids(a)).toEqual(expect.arrayContaining([b, london]));

    // The fallback applies the country code the server stored (DEFAULT_PHONE_REGION): GB here.
    await db.sql.query(`UPDATE phone_settings SET default_country_code = '44'`);
    try {
      const national = await customer({
        email: 'e164.gb2@example.com',
        first: 'Gus',
        phone: '020 7946 0958'
      });
      expect(await e164(national)).toBe('+442079460958');
    } finally {
      await db.sql.query(`UPDATE phone_settings SET default_country_code = '1'`);
    }
  });

  it('refuses a cursor it did not give, and the list to agents', async () => {
    const bad = await as.manager.get('/api/duplicates?cursor=bm90LWEtY3Vyc29y');
    expect(bad.status).toBe(400);
    expectErrorShape(bad.body);
    expect((await as.agent.get('/api/duplicates')).status).toBe(403);
  });
});

describe('a merge', () => {
  it('moves orders, tickets, reviews (the newer of two stays), loyalty entries and balance, and applies the choices', async () => {
    const survivor = await customer({
      email: 'sam.survivor@example.com',
      first: 'Sam',
      last: 'Survivor',
      phone: '+44 20 7946 0001',
      postcode: 'SW1A1AA',
      tags: ['vip', 'newsletter'],
      notes: 'Prefers email.'
    });
    const merged = await customer({
      email: 'sam.s@example.net',
      first: 'Samuel',
      last: 'Survivor',
      phone: '+44 20 7946 0999',
      postcode: 'EC1A1BB',
      tags: ['newsletter', 'wholesale'],
      notes: 'Called about invoices.'
    });
    await db.sql.query(
      `INSERT INTO customer_contacts (customer_id, kind, value, label) VALUES ($1, 'phone', '+44 7700 900123', 'work')`,
      [merged]
    );
    await db.sql.query(
      `INSERT INTO customer_consents (customer_id, channel, granted, source) VALUES ($1, 'sms', true, 'checkout')`,
      [merged]
    );
    const keptOrder = await createOrder(db.sql, { customerId: survivor, total: '10.00', status: 'paid' });
    const movedOrders = [
      await createOrder(db.sql, {
        customerId: merged,
        total: '20.00',
        status: 'paid',
        externalId: 'shop-m-1'
      }),
      await createOrder(db.sql, { customerId: merged, total: '30.00', status: 'paid' })
    ];
    const movedTicket = await createTicket(db.sql, { customerId: merged, teamId: world.teamA });
    const [p1, p2, p3] = [await product(), await product(), await product()];
    // p1: both reviewed, the merged one's is newer (stays); p2: both, the survivor's is newer; p3: merged only.
    await db.sql.query(
      `INSERT INTO reviews (customer_id, product_id, rating, title, created_at) VALUES
        ($1, $3, 2, 'old survivor p1', now() - interval '2 days'), ($2, $3, 5, 'new merged p1', now() - interval '1 day'),
        ($1, $4, 4, 'new survivor p2', now() - interval '1 day'), ($2, $4, 1, 'old merged p2', now() - interval '3 days'),
        ($2, $5, 3, 'merged p3', now())`,
      [survivor, merged, p1, p2, p3]
    );
    const sAccount = await createLoyaltyAccount(db.sql, survivor);
    const mAccount = await createLoyaltyAccount(db.sql, merged);
    await earnPoints(db.sql, { accountId: sAccount, points: 1500, reason: 'Order', key: 'mrg-s-1' });
    await earnPoints(db.sql, {
      accountId: mAccount,
      points: 900,
      reason: 'Order',
      key: 'mrg-m-1',
      orderId: movedOrders[0]
    });
    await db.sql.query(
      `INSERT INTO loyalty_ledger (account_id, kind, points, reason, idempotency_key) VALUES ($1, 'redeem', -200, 'Voucher', 'mrg-m-2')`,
      [mAccount]
    );
    const mEntries = (await all(`SELECT id FROM loyalty_ledger WHERE account_id = $1`, [mAccount])).map(
      (r) => r.id
    );

    const res = await merge(as.manager, survivor, merged, {
      email: 'merged',
      phone: 'survivor',
      name: 'merged',
      addresses: 'both'
    });
    expect(res.status).toBe(200);
    expect(res.body.merge).toMatchObject({
      survivorId: survivor,
      mergedId: merged,
      moved: { orders: 2, tickets: 1, reviews: 2, reviewsDropped: 2, loyaltyEntries: 2, points: 700 },
      mergedName: 'Samuel Survivor',
      mergedEmail: 'sam.s@example.net'
    });

    // Orders and tickets.
    expect(
      (await all(`SELECT id FROM orders WHERE customer_id = $1 ORDER BY id`, [survivor])).map((r) => r.id)
    ).toEqual([keptOrder, ...movedOrders]);
    expect(await one(`SELECT customer_id FROM tickets WHERE id = $1`, [movedTicket])).toEqual({
      customer_id: survivor
    });
    expect(await one(`SELECT count(*)::int AS n FROM orders WHERE customer_id = $1`, [merged])).toEqual({
      n: 0
    });
    // Reviews: the newer of each pair, and the merged-only one; the others in the snapshot.
    expect(
      (await all(`SELECT title FROM reviews WHERE customer_id = $1 ORDER BY title`, [survivor])).map(
        (r) => r.title
      )
    ).toEqual(['merged p3', 'new merged p1', 'new survivor p2']);
    const record = await one(`SELECT snapshot, choices FROM customer_merges WHERE id = $1`, [
      res.body.merge.id
    ]);
    expect(record.snapshot.droppedReviews.map((r: any) => r.title).sort()).toEqual([
      'old merged p2',
      'old survivor p1'
    ]);
    expect(record.snapshot.merged).toMatchObject({
      id: merged,
      email: 'sam.s@example.net',
      first_name: 'Samuel'
    });
    // Loyalty: entries moved with their points; the ledger still sums to every balance.
    expect(
      (
        await all(`SELECT id FROM loyalty_ledger WHERE account_id = $1 AND id = ANY($2)`, [
          sAccount,
          mEntries
        ])
      ).length
    ).toBe(2);
    expect(
      await one(`SELECT balance, lifetime_points, tier FROM loyalty_accounts WHERE id = $1`, [sAccount])
    ).toEqual({ balance: 2200, lifetime_points: 2400, tier: 'silver' });
    expect(
      await one(`SELECT balance, lifetime_points FROM loyalty_accounts WHERE id = $1`, [mAccount])
    ).toEqual({
      balance: 0,
      lifetime_points: 0
    });
    expect(await ledgerHolds()).toEqual({ bad: 0 });
    // A refund of a moved order takes back its lot on the survivor's account: what is left of
    // the 900 after the 200 redeemed from it.
    await db.sql.query(`SELECT loyalty_reverse_order($1)`, [movedOrders[0]]);
    expect(await one(`SELECT balance FROM loyalty_accounts WHERE id = $1`, [sAccount])).toEqual({
      balance: 1500
    });
    expect(await ledgerHolds()).toEqual({ bad: 0 });

    // Choices, tags union, notes kept from both.
    const s = await one(`SELECT * FROM customers WHERE id = $1`, [survivor]);
    expect(s).toMatchObject({
      email: 'sam.s@example.net',
      first_name: 'Samuel',
      phone: '+44 20 7946 0001',
      tags: ['newsletter', 'vip', 'wholesale'],
      merged_into: null
    });
    // Notes, other contacts and consent evidence of both are the survivor's; the email and phone
    // not chosen stay as other contacts.
    expect(
      (await all(`SELECT body FROM customer_notes WHERE customer_id = $1 ORDER BY body`, [survivor])).map(
        (r) => r.body
      )
    ).toEqual(['Called about invoices.', 'Prefers email.']);
    expect(
      (
        await all(`SELECT value FROM customer_contacts WHERE customer_id = $1 ORDER BY value`, [survivor])
      ).map((r) => r.value)
    ).toEqual(['+44 20 7946 0999', '+44 7700 900123', 'sam.survivor@example.com']);
    expect(
      await one(
        `SELECT customer_id FROM customer_consents WHERE channel = 'sms' AND source = 'checkout' AND customer_id IN ($1, $2)`,
        [survivor, merged]
      )
    ).toEqual({ customer_id: survivor });
    // The profile's change log says who changed what.
    expect(
      await one(
        `SELECT old, new, actor_user_id FROM customer_changes WHERE customer_id = $1 AND field = 'email'`,
        [survivor]
      )
    ).toEqual({ old: 'sam.survivor@example.com', new: 'sam.s@example.net', actor_user_id: world.manager.id });
    expect(s.addresses.map((a: any) => a.postal_code)).toEqual(['SW1A1AA', 'EC1A1BB']);
    // The tombstone holds the survivor's former email: both addresses still find the survivor.
    const m = await one(`SELECT email, merged_into FROM customers WHERE id = $1`, [merged]);
    expect(m).toEqual({ email: 'sam.survivor@example.com', merged_into: survivor });

    // Audit row, written by the same transaction as the merge.
    const audit = await one(
      `SELECT a.details, a.actor_user_id FROM audit_log a WHERE a.action = 'customer.merged' AND a.target_id = $1`,
      [String(survivor)]
    );
    expect(audit.actor_user_id).toBe(world.manager.id);
    expect(audit.details).toMatchObject({ survivorId: survivor, mergedId: merged });
    const sameTx = await one(
      `SELECT m.txid = (SELECT c.txid FROM change_log c WHERE c.topic = 'customer_merge' AND c.entity_id = m.id) AS same
         FROM customer_merges m WHERE m.id = $1`,
      [res.body.merge.id]
    );
    expect(sameTx).toEqual({ same: true });

    // Both customers' merge history shows it.
    for (const id of [survivor, merged]) {
      const { merges } = await as.agent.getOk(`/api/customers/${id}/merges`);
      expect(merges.map((x: any) => x.id)).toEqual([res.body.merge.id]);
    }

    // The alias resolves to the survivor, and writes naming it land there.
    expect(await as.agent.getOk(`/api/customers/${merged}/resolve`)).toEqual({
      id: survivor,
      mergedInto: survivor
    });
    expect(await as.agent.getOk(`/api/customers/${survivor}/resolve`)).toEqual({
      id: survivor,
      mergedInto: null
    });
    // The merged customer's URL leads to the survivor's profile.
    const direct = await fetch(new URL(`/api/customers/${merged}`, server.url), {
      headers: { cookie: as.agent.cookie },
      redirect: 'manual'
    });
    expect(direct.status).toBe(308);
    expect(direct.headers.get('location')).toBe(`/api/customers/${survivor}`);
    expect((await as.agent.getOk(`/api/customers/${merged}`)).customer.id).toBe(survivor);
    // Both timelines show the merge.
    const survivorTimeline = await as.agent.getOk(`/api/customers/${survivor}/timeline?kinds=merge`);
    expect(survivorTimeline.items).toEqual([
      expect.objectContaining({ kind: 'merge', otherCustomerId: merged, direction: 'absorbed' })
    ]);
    expect(survivorTimeline.items[0].summary).toContain('Samuel Survivor');
    const mergedTimeline = await as.agent.getOk(`/api/customers/${merged}/timeline?kinds=merge`);
    expect(mergedTimeline.items).toEqual([
      expect.objectContaining({ kind: 'merge', otherCustomerId: survivor, direction: 'merged_into' })
    ]);
    // An edit of the merged customer, made on a page opened before the merge, is refused.
    const staleEdit = await as.agent.request('PATCH', `/api/customers/${merged}`, {
      version: (await one(`SELECT version FROM customers WHERE id = $1`, [merged])).version,
      language: 'fr'
    });
    expect(staleEdit.status).toBe(409);
    expectErrorShape(staleEdit.body);
    // A note written for the merged id lands on the survivor.
    expect(
      (await as.agent.post(`/api/customers/${survivor}/notes`, { body: 'after the merge' })).status
    ).toBeLessThan(300);
    await db.sql.query(`INSERT INTO customer_notes (customer_id, body) VALUES ($1, 'via the alias')`, [
      merged
    ]);
    expect(await one(`SELECT customer_id FROM customer_notes WHERE body = 'via the alias'`)).toEqual({
      customer_id: survivor
    });
    const late = await createOrder(db.sql, { customerId: merged, total: '5.00', externalId: 'shop-m-late' });
    expect(await one(`SELECT customer_id FROM orders WHERE id = $1`, [late])).toEqual({
      customer_id: survivor
    });
  });

  it('previews the points the survivor gains net of the repeated bonuses the merge takes back', async () => {
    const survivor = await customer({ email: 'pat.keep@example.com', first: 'Pat' });
    const merged = await customer({ email: 'pat.dup@example.com', first: 'Pat' });
    const sAccount = await createLoyaltyAccount(db.sql, survivor);
    const mAccount = await createLoyaltyAccount(db.sql, merged);
    const bonus = (account: number, customerId: number, kind: string, points: number, year?: string) =>
      db.sql.query(
        `INSERT INTO loyalty_ledger (account_id, kind, points, reason, idempotency_key, bonus)
         VALUES ($1, 'earn', $2, $3, $4, $5)`,
        [account, points, `${kind} bonus`, `bonus:${kind}:${customerId}${year ? `:${year}` : ''}`, kind]
      );
    // Both signed up (the survivor first: the merged one's bonus is the repeat); only the merged
    // one had a 2026 birthday bonus, and it spent 60 points of its oldest lot, the sign-up's.
    await bonus(sAccount, survivor, 'sign_up', 100);
    await earnPoints(db.sql, { accountId: sAccount, points: 300, reason: 'Order', key: 'mrg-bonus-s-1' });
    await bonus(mAccount, merged, 'sign_up', 100);
    await bonus(mAccount, merged, 'birthday', 250, '2026');
    await earnPoints(db.sql, { accountId: mAccount, points: 500, reason: 'Order', key: 'mrg-bonus-m-1' });
    await db.sql.query(
      `INSERT INTO loyalty_ledger (account_id, kind, points, reason, idempotency_key) VALUES ($1, 'redeem', -60, 'Voucher', 'mrg-bonus-m-2')`,
      [mAccount]
    );

    const preview = await as.manager.getOk(`/api/customers/${survivor}/merge-preview?with=${merged}`);
    expect(preview.merged.points).toBe(790);
    expect(preview).toMatchObject({ bonusPointsTakenBack: 40, pointsMoving: 750 });
    const before = await one(`SELECT balance FROM loyalty_accounts WHERE id = $1`, [sAccount]);
    expect((await merge(as.manager, survivor, merged)).status).toBe(200);
    const after = await one(`SELECT balance FROM loyalty_accounts WHERE id = $1`, [sAccount]);
    expect(after.balance - before.balance).toBe(preview.pointsMoving);
    expect(await ledgerHolds()).toEqual({ bad: 0 });
    // The record the banner and the timeline read says the same: 750 gained, 40 taken back.
    const { merges } = await as.manager.getOk(`/api/customers/${survivor}/merges`);
    expect(merges.find((m: { mergedId: number }) => m.mergedId === merged).moved).toMatchObject({
      points: 750,
      bonusPointsTakenBack: 40
    });
  });

  it('ingest by the merged customer’s email finds the survivor', async () => {
    const survivor = await customer({ email: 'ingest.keep@example.com', first: 'Ira' });
    const merged = await customer({ email: 'ingest.gone@example.com', first: 'Ira' });
    expect((await merge(as.admin, survivor, merged)).status).toBe(200);
    const inbound = await fetch(new URL('/api/inbound', server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({
        email: 'ingest.gone@example.com',
        subject: 'Where is my order?',
        body: 'Hello',
        channel: 'email'
      })
    });
    expect(inbound.status).toBe(201);
    const ticket = (await inbound.json()).ticket;
    expect(ticket.customerId).toBe(survivor);
    expect(
      await one(`SELECT count(*)::int AS n FROM customers WHERE lower(email) = 'ingest.gone@example.com'`)
    ).toEqual({
      n: 1
    });
  });

  it('refuses merging into itself, into an alias, twice, over a stale version, and by an agent', async () => {
    const a = await customer({ email: 'refuse.a@example.com', first: 'Ann' });
    const b = await customer({ email: 'refuse.b@example.com', first: 'Ann' });
    const c = await customer({ email: 'refuse.c@example.com', first: 'Ann' });
    const agent = await merge(as.agent, a, b);
    expect(agent.status).toBe(403);
    const self = await as.manager.post(`/api/customers/${a}/merge`, {
      mergedId: a,
      expectedVersions: { survivor: 1, merged: 1 }
    });
    expect(self.status).toBe(422);
    const stale = await as.manager.post(`/api/customers/${a}/merge`, {
      mergedId: b,
      expectedVersions: { survivor: 1, merged: 99 }
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('stale_version');
    expect((await merge(as.manager, a, b)).status).toBe(200);
    const twice = await as.manager.post(`/api/customers/${a}/merge`, {
      mergedId: b,
      expectedVersions: await versions(a, b)
    });
    expect(twice.status).toBe(422);
    const intoAlias = await as.manager.post(`/api/customers/${b}/merge`, {
      mergedId: c,
      expectedVersions: await versions(b, c)
    });
    expect(intoAlias.status).toBe(422);
    const missing = await as.manager.post(`/api/customers/${a}/merge`, {
      mergedId: 2_000_000_000,
      expectedVersions: { survivor: 1, merged: 1 }
    });
    expect(missing.status).toBe(404);
    // A merge of the survivor later carries the old alias along.
    expect((await merge(as.manager, c, a)).status).toBe(200);
    expect(await as.agent.getOk(`/api/customers/${b}/resolve`)).toEqual({ id: c, mergedInto: c });
    expect(
      await one(`SELECT count(*)::int AS n FROM customer_merges WHERE merged_id IN ($1, $2)`, [a, b])
    ).toEqual({
      n: 2
    });
  });
});

describe('a merge and a concurrent edit', () => {
  it('an edit holding the merged row makes the merge wait, then 409; retried, the edit is in the survivor', async () => {
    const survivor = await customer({ email: 'conc.s@example.com', first: 'Cora', tags: ['a'] });
    const merged = await customer({ email: 'conc.m@example.com', first: 'Cora', tags: ['b'] });
    const seen = await versions(survivor, merged);
    const editor = await db.sql.connect();
    try {
      await editor.query('BEGIN');
      await editor.query(`UPDATE customers SET tags = tags || '{late}' WHERE id = $1`, [merged]);
      const pending = as.manager.post(`/api/customers/${survivor}/merge`, {
        mergedId: merged,
        expectedVersions: seen
      });
      // The merge is waiting for the editor's row lock (not deadlocked, not done).
      await waitForLockWait();
      await editor.query('COMMIT');
      const res = await pending;
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('stale_version');
    } finally {
      editor.release();
    }
    expect(await one(`SELECT merged_into FROM customers WHERE id = $1`, [merged])).toEqual({
      merged_into: null
    });
    const again = await merge(as.manager, survivor, merged);
    expect(again.status).toBe(200);
    expect(await one(`SELECT tags FROM customers WHERE id = $1`, [survivor])).toEqual({
      tags: ['a', 'b', 'late']
    });
  });

  it('an edit of the survivor during the merge lands on the survivor; an edit of the merged one after it is refused', async () => {
    const survivor = await customer({ email: 'conc2.s@example.com', first: 'Dana' });
    const merged = await customer({ email: 'conc2.m@example.com', first: 'Dana' });
    const seen = await versions(survivor, merged);
    const merger = await db.sql.connect();
    const editor = await db.sql.connect();
    try {
      // The merge holds both rows; an edit of each waits for it.
      await merger.query('BEGIN');
      await merger.query(`SELECT merge_customers($1, $2, '{}', $3)`, [survivor, merged, world.manager.id]);
      const editSurvivor = editor.query(`UPDATE customers SET language = 'fr' WHERE id = $1`, [survivor]);
      await waitForLockWait();
      await merger.query('COMMIT');
      await editSurvivor;
      expect(await one(`SELECT language FROM customers WHERE id = $1`, [survivor])).toEqual({
        language: 'fr'
      });
      const lateEdit = await editor
        .query(`UPDATE customers SET language = 'de' WHERE id = $1`, [merged])
        .then(() => null)
        .catch((e: { code: string }) => e.code);
      expect(lateEdit).toBe('55000');
    } finally {
      merger.release();
      editor.release();
    }
    // Through the API a stale merge answers 409 instead.
    const res = await as.manager.post(`/api/customers/${survivor}/merge`, {
      mergedId: merged,
      expectedVersions: seen
    });
    expect(res.status).toBe(422);
  });
});

describe('live', () => {
  it('viewers of either customer and the managers get customer:merged', async () => {
    const survivor = await customer({ email: 'live.s@example.com', first: 'Lee' });
    const merged = await customer({ email: 'live.m@example.com', first: 'Lee' });
    const agentSocket = connectSocket(server.url, as.agent.cookie, { watch: { customers: [merged] } });
    const survivorViewer = connectSocket(server.url, as.agent.cookie, { watch: { customers: [survivor] } });
    const managerSocket = connectSocket(server.url, as.manager.cookie);
    await Promise.all([agentSocket, survivorViewer, managerSocket].map(whenReady));
    const res = await merge(as.manager, survivor, merged);
    expect(res.status).toBe(200);
    const match = (e: any) => e.mergedId === merged;
    for (const socket of [agentSocket, survivorViewer, managerSocket]) {
      const e = await waitFor(socket, 'customer:merged', match);
      expect(e).toMatchObject({ survivorId: survivor, mergedId: merged, merge: { id: res.body.merge.id } });
      expect(typeof e.seq).toBe('number');
    }
  });
});

/** Resolves once some backend waits for a row lock (the test's other connection holds it). */
async function waitForLockWait() {
  for (let i = 0; i < 500; i++) {
    const { n } = await one<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`
    );
    if (n > 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('nothing waited for the lock');
}
