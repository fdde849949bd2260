import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_SCOPES } from '#shared/schemas/integrations.js';
import { INTEGRATION_TOKEN_DEPRECATION } from '../../server/auth/integration.js';
import { ROUTE_ACCESS, routeAccess } from '../../server/auth/scopes.js';
import { loadConfig } from '../../server/config.js';
import { startPulse, type RunningPulse } from '../../server/pulse.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createOrder, createTicket, createWorld } from '../support/fixtures.js';
import { Browser } from '../support/http.js';
import { appRouteKeys } from '../support/routes.js';
import { startTestServer } from '../support/server.js';

// API tokens: every route is mapped to a scope (or refused to tokens) in one table, and a token
// gets exactly what its scopes open; revocation and expiry are effective on the next request;
// only hashes are stored; the deprecated INTEGRATION_TOKEN still works and says so in the log;
// tokens and sessions are rate limited (429 with Retry-After).

const LEGACY = 'legacy-integration-token-0123456789abcdef';
let db: TestDatabase;
let server: RunningPulse;
let world: Awaited<ReturnType<typeof createWorld>>;
let admin: Browser;
const logLines: Record<string, unknown>[] = [];

const appRoutes = () => appRouteKeys(db.sql);

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
      done();
    }
  });
  server = await startPulse({
    config: loadConfig({ NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', INTEGRATION_TOKEN: LEGACY }),
    databaseUrl: db.url,
    logger: pino({ level: 'info' }, sink)
  });
  admin = await Browser.signedIn(server.url, world.admin.email);
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

const create = async (scopes: string[], extra: Record<string, unknown> = {}) => {
  const res = await admin.post('/api/api-tokens', {
    name: `t ${scopes.length} ${scopes[0]}`,
    scopes,
    ...extra
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { token: { id: number; prefix: string }; secret: string };
};

const call = (secret: string, method: string, path: string, body?: unknown) =>
  fetch(new URL(path, server.url), {
    method,
    headers: {
      authorization: `Bearer ${secret}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {})
    },
    body: body === undefined ? undefined : JSON.stringify(body)
  });

describe('the scope table', () => {
  it('gives every route of the app a rule: a scope, open, or session only', () => {
    const unmapped = appRoutes().filter((r) => {
      const [method, path] = r.split(' ');
      return routeAccess(method, path) === undefined;
    });
    expect(unmapped).toEqual([]);
  });

  it('maps the planned CRM routes of the other helpers by prefix', () => {
    expect(routeAccess('GET', '/api/customers')).toBe('customers:read');
    expect(routeAccess('GET', '/api/customers/12/timeline')).toBe('customers:read');
    expect(routeAccess('PATCH', '/api/customers/12')).toBe('customers:write');
    expect(routeAccess('GET', '/api/orders/export.csv')).toBe('orders:read');
    expect(routeAccess('POST', '/api/orders/3/refund')).toBe('orders:write');
    expect(routeAccess('POST', '/api/products/3/stock-movements')).toBe('products:write');
    expect(routeAccess('GET', '/api/loyalty/accounts')).toBe('loyalty:read');
    expect(routeAccess('POST', '/api/views')).toBe('session');
    expect(routeAccess('POST', '/api/webhooks/shopify')).toBe('open');
    // A prefix stops at a path segment.
    expect(routeAccess('GET', '/api/customersx')).toBeUndefined();
    expect(ROUTE_ACCESS.length).toBeGreaterThan(20);
  });
});

describe('token scopes on every route', () => {
  it('a token gets a route exactly when it holds the route scope; session-only routes refuse every token', async () => {
    const all = await create([...API_SCOPES]);
    const ticketId = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
    const orderId = await createOrder(db.sql, {
      customerId: world.customerId,
      total: '10.00',
      status: 'paid'
    });
    const ids: Record<string, number> = { tickets: ticketId, orders: orderId };
    const tokens = new Map<string, string>();
    for (const scope of API_SCOPES) tokens.set(scope, (await create([scope])).secret);
    const failures: string[] = [];
    for (const route of appRoutes()) {
      const [method, template] = route.split(' ');
      if (template === '/api/auth/logout') continue; // would end nothing (no session), refused the same way
      const path = template.replace(/:(\w+)/g, (_m, name: string) =>
        name === 'id' ? String(ids[template.split('/')[2]] ?? 1) : name === 'asset' ? 'init.js' : '1'
      );
      const access = routeAccess(method, template)!;
      const body = method === 'GET' ? undefined : {};
      const withAll = await call(all.secret, method, path, body);
      if (access === 'session') {
        if (withAll.status !== 403) failures.push(`${route}: session only, a token got ${withAll.status}`);
        continue;
      }
      // An open route that authenticates its caller itself (a storefront's signature) may answer 401.
      if (withAll.status === 403 || (access !== 'open' && withAll.status === 401))
        failures.push(`${route}: needs ${access}, a token with every scope got ${withAll.status}`);
      if (access === 'open') continue;
      const other = API_SCOPES.find((s) => s !== access)!;
      const without = await call(tokens.get(other)!, method, path, body);
      if (without.status !== 403)
        failures.push(`${route}: needs ${access}, a token with ${other} got ${without.status}`);
      const own = await call(tokens.get(access)!, method, path, body);
      if (own.status === 401 || own.status === 403)
        failures.push(`${route}: a token with ${access} got ${own.status} ${await own.text()}`);
    }
    expect(failures).toEqual([]);
  });

  it('a token reads as its owner and writes with its scope, and its errors are the one error shape', async () => {
    const { secret } = await create(['tickets:read']);
    const res = await call(secret, 'GET', '/api/tickets?view=all');
    expect(res.status).toBe(200);
    const refused = await call(secret, 'POST', '/api/inbound', {
      channel: 'email',
      email: 'a@b.c',
      subject: 's',
      body: 'b'
    });
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.code).toBe('forbidden');
  });
});

describe('token lifecycle', () => {
  it('stores only a hash; the secret is pulse_ and 40 characters, shown once', async () => {
    const { token, secret } = await create(['orders:read']);
    expect(secret).toMatch(/^pulse_[A-Za-z0-9]{40}$/);
    const { rows } = await db.sql.query(`SELECT * FROM api_tokens WHERE id = $1`, [token.id]);
    const stored = JSON.stringify(rows[0]);
    expect(stored).not.toContain(secret.slice(6));
    expect(rows[0].token_hash).toBe(createHash('sha256').update(secret).digest('hex'));
    const list = await admin.getOk('/api/api-tokens');
    expect(JSON.stringify(list)).not.toContain(secret.slice(6));
    expect(list.tokens.find((t: { id: number }) => t.id === token.id).prefix).toBe(secret.slice(0, 10));
  });

  it('notes when and from where a token was last used', async () => {
    const { token, secret } = await create(['orders:read']);
    expect((await call(secret, 'GET', '/api/health')).status).toBe(200);
    const list = await admin.getOk('/api/api-tokens');
    const shown = list.tokens.find((t: { id: number }) => t.id === token.id);
    expect(shown.lastUsedAt).not.toBeNull();
    expect(shown.lastUsedFrom).toBe('127.0.0.1');
  });

  it('a revoked token is refused on its very next request', async () => {
    const { token, secret } = await create(['tickets:read']);
    expect((await call(secret, 'GET', '/api/tickets?view=all')).status).toBe(200);
    const revoked = await admin.request('DELETE', `/api/api-tokens/${token.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.token.revokedAt).not.toBeNull();
    const after = await call(secret, 'GET', '/api/tickets?view=all');
    expect(after.status).toBe(401);
    expect((await after.json()).error.code).toBe('unauthenticated');
  });

  it('an expired token is refused, and so is one whose owner was deactivated', async () => {
    const expiring = await create(['tickets:read'], {
      expiresAt: new Date(Date.now() + 3_600_000).toISOString()
    });
    expect((await call(expiring.secret, 'GET', '/api/tickets?view=all')).status).toBe(200);
    await db.sql.query(`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [
      expiring.token.id
    ]);
    expect((await call(expiring.secret, 'GET', '/api/tickets?view=all')).status).toBe(401);
    const past = await admin.post('/api/api-tokens', {
      name: 'past',
      scopes: ['orders:read'],
      expiresAt: '2001-01-01T00:00:00Z'
    });
    expect(past.status).toBe(400);
  });

  it('tokens cannot manage tokens, and agents cannot either', async () => {
    const { secret } = await create([...API_SCOPES]);
    expect(
      (await call(secret, 'POST', '/api/api-tokens', { name: 'x', scopes: ['orders:read'] })).status
    ).toBe(403);
    const agent = await Browser.signedIn(server.url, world.agentA.email);
    expect((await agent.post('/api/api-tokens', { name: 'x', scopes: ['orders:read'] })).status).toBe(403);
  });

  it('npm run token:create prints the secret once, alone on its line, and it works', async () => {
    const run = promisify(execFile);
    const { stdout, stderr } = await run(
      'npx',
      ['tsx', 'server/cli/create-token.ts', '--name', 'CLI', '--scopes', 'tickets:read,orders:read'],
      { env: { ...process.env, DATABASE_URL: db.url } }
    );
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^pulse_[A-Za-z0-9]{40}$/);
    expect(stderr).toContain('shown once');
    expect((await call(lines[0], 'GET', '/api/tickets?view=all')).status).toBe(200);
    expect((await call(lines[0], 'GET', '/api/customers')).status).not.toBe(200);
  });
});

describe('the deprecated INTEGRATION_TOKEN', () => {
  it('still works for inbound messages, with a deprecation warning in the log', async () => {
    const res = await call(LEGACY, 'POST', '/api/inbound', {
      channel: 'email',
      email: 'legacy@example.com',
      subject: 'Still here',
      body: 'Hello'
    });
    expect(res.status).toBe(201);
    const warnings = logLines.filter((l) => l.msg === INTEGRATION_TOKEN_DEPRECATION);
    // Once at start, once at first use.
    expect(warnings.length).toBeGreaterThanOrEqual(2);
    expect(warnings.some((w) => w.route === 'POST /api/inbound')).toBe(true);
    expect((await call(`${LEGACY}x`, 'POST', '/api/inbound', {})).status).toBe(401);
  });
});

describe('rate limits', () => {
  let limited: RunningPulse;
  beforeAll(async () => {
    limited = await startTestServer(db.url, {
      API_TOKEN_RATE_PER_SECOND: '0.5',
      API_TOKEN_RATE_BURST: '3',
      API_SESSION_RATE_PER_SECOND: '0.5',
      API_SESSION_RATE_BURST: '4'
    });
  });
  afterAll(async () => limited?.close());

  it('answers 429 with Retry-After once a token used its burst, without touching another token', async () => {
    const a = await create(['tickets:read']);
    const b = await create(['tickets:read']);
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 5; i++) {
      const res = await fetch(new URL('/api/tickets?view=all', limited.url), {
        headers: { authorization: `Bearer ${a.secret}` }
      });
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get('retry-after');
        expect((await res.json()).error.code).toBe('too_many_requests');
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    const other = await fetch(new URL('/api/tickets?view=all', limited.url), {
      headers: { authorization: `Bearer ${b.secret}` }
    });
    expect(other.status).toBe(200);
  });

  it('limits a session the same way', async () => {
    const manager = await Browser.signedIn(limited.url, world.manager.email);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await manager.get('/api/teams')).status);
    expect(statuses.slice(0, 4)).toEqual([200, 200, 200, 200]);
    expect(statuses.slice(4)).toEqual([429, 429]);
  });
});
