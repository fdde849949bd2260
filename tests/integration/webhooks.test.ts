import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPulse } from '../../server/pulse.js';
import { verifySignature } from '../../server/services/integrations/webhooks/signature.js';
import { isPrivateAddress } from '../../server/services/integrations/webhooks/ssrf.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createOrder, createWorld } from '../support/fixtures.js';
import { Browser } from '../support/http.js';
import { startChildServer, type ChildServer } from '../support/processes.js';
import { startTestServer } from '../support/server.js';

// Outbound webhooks against a real local receiver that fails, hangs past the timeout and
// recovers, with a server restart in the middle: every change arrives, signed, in order per
// entity. Repeated failures disable a subscription (and say so); redeliver sends one again;
// private and loopback addresses are refused unless the setting allows them.

interface Received {
  path: string;
  id: string;
  event: string;
  data: { id: number; version: number; status: string };
  signed: boolean;
}

/** A webhook receiver: each path answers by a plan (`fail`, `hang`, `ok`), then `ok`. */
class Receiver {
  server: Server;
  received: Received[] = [];
  requests = 0;
  plans = new Map<string, ('fail' | 'hang' | 'ok')[]>();
  always = new Map<string, 'fail' | 'ok'>();
  secrets = new Map<string, string>();
  private waiters: (() => void)[] = [];

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start() {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async handle(req: IncomingMessage, res: import('node:http').ServerResponse) {
    let body = '';
    for await (const chunk of req) body += chunk;
    const path = req.url ?? '/';
    this.requests++;
    const step = this.plans.get(path)?.shift() ?? this.always.get(path) ?? 'ok';
    this.notify();
    if (step === 'hang') return; // never answers: the sender times out
    if (step === 'fail') {
      res.writeHead(500).end('receiver is down');
      return;
    }
    const parsed = JSON.parse(body);
    this.received.push({
      path,
      id: parsed.id,
      event: parsed.event,
      data: parsed.data,
      signed: verifySignature(this.secrets.get(path) ?? '', body, req.headers['pulse-signature'] as string)
    });
    res.writeHead(200).end('thanks');
    this.notify();
  }

  private notify() {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves when `check` holds, re-checked on every request the receiver gets. */
  async until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100); // database-side conditions are re-checked too
      });
    }
  }

  close() {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(r));
  }
}

const SETTINGS = {
  WEBHOOKS_ALLOW_PRIVATE: 'true',
  WEBHOOK_POLL_MS: '30',
  WEBHOOK_TIMEOUT_MS: '400',
  WEBHOOK_RETRY_BASE_MS: '40',
  WEBHOOK_MAX_CONSECUTIVE_FAILURES: '6'
};

let db: TestDatabase;
let server: RunningPulse;
let world: Awaited<ReturnType<typeof createWorld>>;
let receiver: Receiver;
let receiverUrl: string;
let admin: Browser;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  receiver = new Receiver();
  receiverUrl = await receiver.start();
  server = await startTestServer(db.url, SETTINGS);
  admin = await Browser.signedIn(server.url, world.admin.email);
});
afterAll(async () => {
  await server?.close();
  await receiver?.close();
  await db?.drop();
});

async function subscribe(path: string, events: string[]) {
  const res = await admin.post('/api/webhook-subscriptions', {
    name: path,
    url: `${receiverUrl}${path}`,
    events
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  receiver.secrets.set(path, res.body.secret);
  return res.body.subscription.id as number;
}

const setStatus = (orderId: number, status: string) =>
  db.sql.query(`UPDATE orders SET status = $2 WHERE id = $1`, [orderId, status]);

describe('outbound webhooks', () => {
  it('delivers every change, signed and in order per order, through failures, a timeout and a restart', async () => {
    const subscription = await subscribe('/orders', ['order.created', 'order.updated']);
    // Two failures, then a request left hanging past the timeout; then the receiver recovers.
    receiver.plans.set('/orders', ['fail', 'fail', 'hang']);
    const a = await createOrder(db.sql, { customerId: world.customerId, total: '10.00', status: 'pending' });
    const b = await createOrder(db.sql, { customerId: world.customerId, total: '20.00', status: 'pending' });
    await setStatus(a, 'paid');
    await setStatus(b, 'paid');
    await receiver.until(() => receiver.requests >= 3, 'the hanging request');
    // Restart in the middle: the hanging request is still open, changes arrive while Pulse is down.
    await server.close();
    await setStatus(a, 'shipped');
    await setStatus(b, 'refunded');
    await setStatus(a, 'delivered');
    server = await startTestServer(db.url, SETTINGS);
    admin = await Browser.signedIn(server.url, world.admin.email);

    const expected = { [a]: [1, 2, 3, 4], [b]: [1, 2, 3] };
    const versions = (id: number) =>
      receiver.received.filter((r) => r.path === '/orders' && r.data.id === id).map((r) => r.data.version);
    await receiver.until(
      () => [a, b].every((id) => new Set(versions(id)).size === expected[id].length),
      'every change of both orders'
    );
    for (const id of [a, b]) {
      // At least once: a delivery may come twice, but never an older version after a newer one.
      const seen = versions(id);
      expect(seen, `order ${id}`).toEqual([...seen].sort((x, y) => x - y));
      expect([...new Set(seen)]).toEqual(expected[id]);
    }
    expect(receiver.received.filter((r) => r.path === '/orders').every((r) => r.signed)).toBe(true);
    expect(receiver.received.find((r) => r.data.id === a)!.event).toBe('order.created');

    const log = await admin.getOk(`/api/webhook-subscriptions/${subscription}/deliveries`);
    const failed = log.deliveries.flatMap(
      (d: { history: { status: number | null; error: string | null }[] }) => d.history
    );
    expect(failed.some((h: { status: number | null }) => h.status === 500)).toBe(true);
    expect(failed.some((h: { error: string | null }) => h.error?.includes('No answer within'))).toBe(true);
    const list = await admin.getOk('/api/webhook-subscriptions');
    const shown = list.subscriptions.find((s: { id: number }) => s.id === subscription);
    expect(shown).toMatchObject({ enabled: true, consecutiveFailures: 0, pending: 0 });
  });

  it('disables a subscription after repeated failures, tells admins, and resumes when re-enabled', async () => {
    receiver.always.set('/down', 'fail');
    const subscription = await subscribe('/down', ['order.updated']);
    const order = await createOrder(db.sql, {
      customerId: world.customerId,
      total: '5.00',
      status: 'pending'
    });
    await setStatus(order, 'paid');
    await receiver.until(async () => {
      const { rows } = await db.sql.query(`SELECT enabled FROM webhook_subscriptions WHERE id = $1`, [
        subscription
      ]);
      return rows[0].enabled === false;
    }, 'the subscription to be disabled');
    const list = await admin.getOk('/api/webhook-subscriptions');
    const shown = list.subscriptions.find((s: { id: number }) => s.id === subscription);
    expect(shown.disabledReason).toMatch(/Disabled after 6 failed deliveries/);
    expect(shown.pending).toBe(1);
    const { rows: notices } = await db.sql.query(
      `SELECT details FROM audit_log WHERE action = 'webhook.disabled' AND target_id = $1`,
      [String(subscription)]
    );
    expect(notices).toHaveLength(1);

    // Changes while disabled are kept by its cursor and sent once it is enabled again.
    await setStatus(order, 'shipped');
    receiver.always.set('/down', 'ok');
    const enabled = await admin.request('PATCH', `/api/webhook-subscriptions/${subscription}`, {
      enabled: true
    });
    expect(enabled.status).toBe(200);
    await receiver.until(
      () => receiver.received.filter((r) => r.path === '/down').length >= 2,
      'the deliveries held while disabled'
    );
    expect(receiver.received.filter((r) => r.path === '/down').map((r) => r.data.status)).toEqual([
      'paid',
      'shipped'
    ]);
  });

  it('redelivers a delivery on request, with the same delivery id', async () => {
    const subscription = await subscribe('/again', ['order.created']);
    const order = await createOrder(db.sql, {
      customerId: world.customerId,
      total: '7.00',
      status: 'pending'
    });
    await receiver.until(
      () => receiver.received.some((r) => r.path === '/again' && r.data.id === order),
      'the first delivery'
    );
    const first = receiver.received.find((r) => r.path === '/again' && r.data.id === order)!;
    await receiver.until(async () => {
      const log = await admin.getOk(`/api/webhook-subscriptions/${subscription}/deliveries?state=delivered`);
      return log.deliveries.some((d: { id: number }) => String(d.id) === first.id);
    }, 'the delivery to be recorded');
    const res = await admin.post(
      `/api/webhook-subscriptions/${subscription}/deliveries/${first.id}/redeliver`
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await receiver.until(
      () => receiver.received.filter((r) => r.path === '/again' && r.id === first.id).length === 2,
      'the redelivery'
    );
    // The receiver answers before the server records the answer: wait for the record.
    const recorded = async () => {
      const log = await admin.getOk(`/api/webhook-subscriptions/${subscription}/deliveries`);
      return log.deliveries.find((d: { id: number }) => String(d.id) === first.id);
    };
    await expect.poll(async () => (await recorded())?.attempts, { timeout: 5000 }).toBe(2);
    const delivery = await recorded();
    expect(delivery).toMatchObject({
      state: 'delivered',
      attempts: 2,
      lastStatus: 200,
      lastResponse: 'thanks'
    });
    expect(delivery.lastLatencyMs).toBeGreaterThanOrEqual(0);
    expect(
      (await admin.post(`/api/webhook-subscriptions/${subscription}/deliveries/999999/redeliver`)).status
    ).toBe(404);
  });
});

describe('signatures', () => {
  it('verify over t.body with the secret, and fail for another body, secret or an old timestamp', async () => {
    const { signPayload } = await import('../../server/services/integrations/webhooks/signature.js');
    const header = signPayload('whsec_abc', '{"a":1}', 1_700_000_000);
    expect(verifySignature('whsec_abc', '{"a":1}', header, 300, 1_700_000_100)).toBe(true);
    expect(verifySignature('whsec_abc', '{"a":2}', header, 300, 1_700_000_100)).toBe(false);
    expect(verifySignature('whsec_abd', '{"a":1}', header, 300, 1_700_000_100)).toBe(false);
    expect(verifySignature('whsec_abc', '{"a":1}', header, 300, 1_700_001_000)).toBe(false);
  });
});

describe('SSRF', () => {
  let strictDb: TestDatabase;
  let strict: ChildServer;
  beforeAll(async () => {
    strictDb = await createTestDatabase();
    await createWorld(strictDb.sql);
    // Another database needs another process (one Pulse process serves one database).
    strict = await startChildServer(strictDb.url, {}, { WEBHOOK_POLL_MS: '30', WEBHOOK_RETRY_BASE_MS: '40' });
  });
  afterAll(async () => {
    await strict?.stop();
    await strictDb?.drop();
  });

  it('knows private, loopback, link-local and mapped addresses', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '0.0.0.0'
    ])
      expect(isPrivateAddress(a), a).toBe(true);
    for (const a of ['93.184.216.34', '2606:4700::1111', '::ffff:8.8.8.8'])
      expect(isPrivateAddress(a), a).toBe(false);
  });

  it('refuses subscriptions to private and loopback addresses, by name too', async () => {
    const admin = await Browser.signedIn(strict.url, 'admin@test.dev');
    for (const url of [
      'http://127.0.0.1:9/x',
      'http://localhost:9/',
      'http://10.0.0.1/',
      'http://[::1]/',
      'http://169.254.169.254/latest'
    ]) {
      const res = await admin.post('/api/webhook-subscriptions', {
        name: 'x',
        url,
        events: ['order.created']
      });
      expect(res.status, url).toBe(422);
      expect(res.body.error.code).toBe('unprocessable');
    }
    expect((await strictDb.sql.query(`SELECT count(*)::int AS n FROM webhook_subscriptions`)).rows[0].n).toBe(
      0
    );
  });

  it('refuses to send to one that points inside (the address is checked at every send)', async () => {
    // As if its name had resolved to a public address when it was created.
    await strictDb.sql.query(
      `INSERT INTO webhook_subscriptions (name, url, events, secret, cursor)
       VALUES ('inside', $1, '{order.created}', repeat('s', 32), pg_current_snapshot()::text)`,
      [`${receiverUrl}/inside`]
    );
    const {
      rows: [customer]
    } = await strictDb.sql.query(`SELECT id FROM customers LIMIT 1`);
    await createOrder(strictDb.sql, { customerId: customer.id, total: '1.00' });
    await receiver.until(async () => {
      const { rows } = await strictDb.sql.query(
        `SELECT last_error FROM webhook_deliveries WHERE attempts > 0`
      );
      return rows.length > 0;
    }, 'a refused attempt');
    const { rows } = await strictDb.sql.query(`SELECT last_error, last_status FROM webhook_deliveries`);
    expect(rows[0].last_status).toBeNull();
    expect(rows[0].last_error).toMatch(/private or loopback/);
    expect(receiver.received.some((r) => r.path === '/inside')).toBe(false);
  });
});
