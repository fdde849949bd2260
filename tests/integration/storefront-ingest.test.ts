import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPulse } from '../../server/pulse.js';
import { SIGNATURE_TOLERANCE_SECONDS } from '../../server/services/integrations/storefront/signatures.js';
import { shopifyOrder } from '../fixtures/storefront/shopify.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startChildServer } from '../support/processes.js';
import { startTestServer } from '../support/server.js';
import { createStoreRow, sendGeneric, sendShopify, settled } from './storefront-support.js';

// The generic signed order feed (X-Pulse-Signature, Idempotency-Key), and the inbox's promise: a
// delivery answered 200 is applied even when the server dies before applying it.

const SECRET = 'generic-store-secret-0123456789';
const SHOPIFY_SECRET = 'crash-test-shopify-secret-0123';

let db: TestDatabase;
let server: RunningPulse | undefined;
let store: number;

beforeAll(async () => {
  db = await createTestDatabase();
  store = await createStoreRow(db.sql, { name: 'Feed', platform: 'generic', secret: SECRET });
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

const order = (over: Record<string, unknown> = {}) => ({
  id: 'A-100',
  status: 'paid',
  total: '59.90',
  currency: 'EUR',
  updatedAt: '2026-12-01T10:00:00Z',
  customer: { email: 'feed@example.com', firstName: 'Fay', lastName: 'Feed' },
  items: [{ sku: 'FEED-1', name: 'Feed item', quantity: 2, unitPrice: '29.95' }],
  ...over
});

// Well outside the window: the server reads its clock a moment after the test, and a loaded machine
// can make that moment seconds long. The window's exact edge is the unit test's (normalize.test.ts).
const OUTSIDE_WINDOW = SIGNATURE_TOLERANCE_SECONDS + 120;

describe('generic ingest', () => {
  beforeAll(async () => {
    server = await startTestServer(db.url, { STORE_INBOX_POLL_MS: '200' });
  });

  it('same Idempotency-Key and body: the same answer; another body: 409', async () => {
    const first = await sendGeneric(server!.url, { secret: SECRET, payload: order(), key: 'key-1' });
    expect(first.status).toBe(200);
    const again = await sendGeneric(server!.url, { secret: SECRET, payload: order(), key: 'key-1' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const other = await sendGeneric(server!.url, {
      secret: SECRET,
      payload: order({ total: '1.00' }),
      key: 'key-1'
    });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('conflict');
    const row = await settled(db.sql, first.body.deliveryId);
    expect(row.state).toBe('processed');
    const { rows } = await db.sql.query(
      `SELECT status, total::text, currency FROM orders WHERE external_id = $1`,
      [`generic:${store}:A-100`]
    );
    expect(rows).toEqual([{ status: 'paid', total: '59.90', currency: 'EUR' }]);
  });

  it('refuses a stale, a future or a wrong signature with 401, and a body that is not an order with 400', async () => {
    const now = Math.floor(Date.now() / 1000);
    const stale = await sendGeneric(server!.url, {
      secret: SECRET,
      payload: order({ id: 'A-101' }),
      at: now - OUTSIDE_WINDOW
    });
    expect(stale.status).toBe(401);
    expect(stale.body.error.message).toMatch(/5 minutes/);
    const future = await sendGeneric(server!.url, {
      secret: SECRET,
      payload: order({ id: 'A-101' }),
      at: now + OUTSIDE_WINDOW
    });
    expect(future.status).toBe(401);
    const wrong = await sendGeneric(server!.url, {
      secret: 'another-secret-0123456789',
      payload: order({ id: 'A-101' })
    });
    expect(wrong.status).toBe(401);
    const malformed = await sendGeneric(server!.url, {
      secret: SECRET,
      payload: { id: 'A-101', total: 'lots' }
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('validation_failed');
    const notJson = await sendGeneric(server!.url, { secret: SECRET, payload: 'not json' });
    expect(notJson.status).toBe(400);
    const { rows } = await db.sql.query(
      `SELECT count(*)::int AS n FROM store_deliveries WHERE delivery_key LIKE '%A-101%'`
    );
    expect(rows[0].n).toBe(0);
    expect(
      (await db.sql.query(`SELECT 1 FROM orders WHERE external_id = $1`, [`generic:${store}:A-101`])).rowCount
    ).toBe(0);
  });

  it('answers garbage with 400 or 401, never 500, and stores nothing', async () => {
    const { signBase64Hmac, signPulse } =
      await import('../../server/services/integrations/storefront/signatures.js');
    await createStoreRow(db.sql, { name: 'Garbage shop', platform: 'shopify', secret: SHOPIFY_SECRET });
    const before = (await db.sql.query(`SELECT count(*)::int AS n FROM store_deliveries`)).rows[0].n;
    const bodies: (string | Buffer)[] = [
      '',
      'null',
      '[]',
      '"x"',
      '{',
      'webhook_id=1',
      '\u0000',
      Buffer.from([0xff, 0xfe, 0x00, 0x41])
    ];
    const statuses = new Set<number>();
    for (const body of bodies) {
      for (const path of ['/api/webhooks/shopify', '/api/webhooks/woocommerce', '/api/ingest/orders']) {
        const raw = typeof body === 'string' ? Buffer.from(body) : body;
        const variants: Record<string, string>[] = [
          {},
          {
            'x-shopify-hmac-sha256': 'garbage',
            'x-wc-webhook-signature': '!!',
            'x-pulse-signature': 't=1,v1=zz'
          },
          {
            'x-shopify-hmac-sha256': signBase64Hmac(SHOPIFY_SECRET, raw),
            'x-shopify-topic': 'orders/create',
            'x-shopify-webhook-id': 'g',
            'x-pulse-signature': signPulse(SECRET, raw.toString('latin1'))
          }
        ];
        for (const headers of variants) {
          const res = await fetch(new URL(path, server!.url), {
            method: 'POST',
            headers,
            body: new Uint8Array(raw)
          });
          statuses.add(res.status);
          expect([200, 400, 401], `${path} ${JSON.stringify(headers)} ${raw.toString('hex')}`).toContain(
            res.status
          );
          if (res.status === 200) expect(path).toBe('/api/webhooks/woocommerce'); // the ping
        }
      }
    }
    expect(statuses).toContain(400);
    expect(statuses).toContain(401);
    expect((await db.sql.query(`SELECT count(*)::int AS n FROM store_deliveries`)).rows[0].n).toBe(before);
  });

  it('a newer delivery of the same order applies, an older one is ignored', async () => {
    const newer = await sendGeneric(server!.url, {
      secret: SECRET,
      payload: order({ status: 'shipped', updatedAt: '2026-12-02T10:00:00Z' })
    });
    expect((await settled(db.sql, newer.body.deliveryId)).state).toBe('processed');
    const older = await sendGeneric(server!.url, {
      secret: SECRET,
      payload: order({ status: 'pending', updatedAt: '2026-12-01T12:00:00Z' })
    });
    expect((await settled(db.sql, older.body.deliveryId)).state).toBe('ignored');
    const { rows } = await db.sql.query(`SELECT status FROM orders WHERE external_id = $1`, [
      `generic:${store}:A-100`
    ]);
    expect(rows).toEqual([{ status: 'shipped' }]);
  });

  afterAll(async () => {
    await server?.close();
    server = undefined;
  });
});

describe('a crash between receipt and processing', () => {
  it('loses nothing: the next server applies what the dead one had answered 200 for', async () => {
    const child = await startChildServer(
      db.url,
      {},
      { SHOPIFY_WEBHOOK_SECRET: SHOPIFY_SECRET, STORE_INBOX_POLL_MS: '100' }
    );
    // Holding this lock stops any processor inside its transaction, after it claimed the delivery.
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE store_order_sources IN ACCESS EXCLUSIVE MODE');
    let killed = false;
    try {
      const sent = await sendShopify(child.url, {
        secret: SHOPIFY_SECRET,
        topic: 'orders/create',
        payload: shopifyOrder({ id: 777, email: 'crash@example.com' })
      });
      expect(sent.status).toBe(200);
      // The child's processor has claimed it and waits for the lock: it is mid-apply.
      const deadline = Date.now() + 20_000;
      for (;;) {
        const { rows } = await db.sql.query(
          `SELECT 1 FROM pg_stat_activity WHERE application_name = 'pulse-storefront' AND wait_event_type = 'Lock'`
        );
        if (rows.length > 0) break;
        if (Date.now() > deadline) throw new Error('the processor never reached the delivery');
        await new Promise((r) => setTimeout(r, 25));
      }
      process.kill(child.pid, 'SIGKILL');
      killed = true;
      await child.stop();
      // Its connections die with it (a backend waiting on a lock notices only later: end them).
      await db.sql.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pulse-storefront'`
      );
      await holder.query('COMMIT');
      const pending = await db.sql.query(`SELECT state, attempts FROM store_deliveries WHERE id = $1`, [
        sent.body.deliveryId
      ]);
      expect(pending.rows).toEqual([{ state: 'pending', attempts: 0 }]);
      expect(
        (await db.sql.query(`SELECT 1 FROM orders WHERE external_id LIKE 'shopify:%:777'`)).rowCount
      ).toBe(0);

      server = await startTestServer(db.url, {
        SHOPIFY_WEBHOOK_SECRET: SHOPIFY_SECRET,
        STORE_INBOX_POLL_MS: '100'
      });
      const row = await settled(db.sql, sent.body.deliveryId);
      expect(row).toMatchObject({ state: 'processed', attempts: 1 });
      expect(
        (await db.sql.query(`SELECT 1 FROM orders WHERE external_id LIKE 'shopify:%:777'`)).rowCount
      ).toBe(1);
    } finally {
      if (!killed) await child.stop();
      await holder.end().catch(() => undefined);
    }
  }, 90_000);
});
