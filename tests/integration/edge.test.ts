import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createWorld, PASSWORD } from '../support/fixtures.js';
import { startChildServer, type ChildServer } from '../support/processes.js';
import { httpRequest, rawRequest } from '../support/raw-http.js';

// The edge of the server: what arrives before any route runs. Servers run in processes of their
// own, so that a request that would end the process shows as exactly that.

let db: TestDatabase;
let server: ChildServer;
let proxied: ChildServer;
let world: Awaited<ReturnType<typeof createWorld>>;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  [server, proxied] = await Promise.all([startChildServer(db.url), startChildServer(db.url, {}, { TRUST_PROXY: 'true' })]);
});
afterAll(async () => {
  await Promise.all([server?.stop(), proxied?.stop()]);
  await db?.drop();
});

const hostOf = (url: string) => new URL(url).host;

/** The server still runs and answers. */
async function expectUp(s: ChildServer) {
  expect(s.exitCode(), 'the server process exited').toBeNull();
  const res = await fetch(`${s.url}/api/health`);
  expect(res.status).toBe(200);
}

const upgrade = (headers: Record<string, string>) =>
  httpRequest('GET', '/socket.io/?EIO=4&transport=websocket', {
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'sec-websocket-version': '13',
    ...headers
  });

const MALFORMED_HOSTS = ['a b', '[', 'x:99999', 'user@host', 'host/path', '[::1', ':::'];

describe('malformed Host and Origin headers', () => {
  it('a WebSocket upgrade with a malformed Host is refused and the server keeps running', async () => {
    const host = hostOf(server.url);
    expect((await rawRequest(server.url, upgrade({ host, origin: `http://${host}` }))).status).toBe(101);
    for (const malformed of MALFORMED_HOSTS) {
      const res = await rawRequest(server.url, upgrade({ host: malformed, origin: `http://${malformed}` }));
      // engine.io answers a refused upgrade with 400 and closes the connection.
      expect(res.status, `Host: ${malformed}`).toBe(400);
      await expectUp(server);
    }
  });

  it('an HTTP request with a malformed Host gets a 400 in the error shape', async () => {
    for (const host of MALFORMED_HOSTS) {
      const res = await rawRequest(server.url, httpRequest('GET', '/api/health', { host }));
      expect(res.status, `Host: ${host}`).toBe(400);
      expect(JSON.parse(res.body).error).toMatchObject({ code: 'bad_request' });
    }
    await expectUp(server);
  });

  it('a malformed Origin is a 400 on HTTP and a refused handshake on the socket', async () => {
    const host = hostOf(server.url);
    for (const origin of ['a b', 'http://[', 'http://x:99999', 'http://ex ample.com', '\u00e9']) {
      const login = await rawRequest(
        server.url,
        httpRequest('POST', '/api/auth/login', { host, origin, 'content-type': 'application/json' }, JSON.stringify({ email: world.agentA.email, password: 'x' }))
      );
      expect(login.status, `Origin: ${origin}`).toBe(400);
      expect(JSON.parse(login.body).error).toMatchObject({ code: 'bad_request' });
      const socket = await rawRequest(server.url, upgrade({ host, origin }));
      expect(socket.status, `Origin: ${origin}`).toBe(400);
    }
    await expectUp(server);
  });

  it('behind a trusted proxy, a malformed X-Forwarded-Host or -Proto is a 400 and a refused handshake', async () => {
    const host = hostOf(proxied.url);
    const proxiedLogin = await rawRequest(
      proxied.url,
      httpRequest('POST', '/api/auth/login', { host, origin: 'https://crm.example.com', 'x-forwarded-host': 'crm.example.com', 'x-forwarded-proto': 'https', 'content-type': 'application/json' }, JSON.stringify({ email: world.agentA.email, password: PASSWORD }))
    );
    expect(proxiedLogin.status).toBe(200);
    const cases: Record<string, string>[] = [
      { 'x-forwarded-host': 'a b' },
      { 'x-forwarded-host': '[' },
      { 'x-forwarded-host': 'x:99999' },
      { 'x-forwarded-proto': 'javascript' },
      { 'x-forwarded-proto': 'ht tp' }
    ];
    for (const forwarded of cases) {
      const origin = `${forwarded['x-forwarded-proto'] ?? 'http'}://${forwarded['x-forwarded-host'] ?? host}`;
      const res = await rawRequest(
        proxied.url,
        httpRequest('POST', '/api/auth/login', { host, origin, 'content-type': 'application/json', ...forwarded }, JSON.stringify({ email: world.agentA.email, password: 'x' }))
      );
      expect(res.status, JSON.stringify(forwarded)).toBe(400);
      expect(JSON.parse(res.body).error).toMatchObject({ code: 'bad_request' });
      const socket = await rawRequest(proxied.url, upgrade({ host, origin, ...forwarded }));
      expect(socket.status, JSON.stringify(forwarded)).toBe(400);
    }
    await expectUp(proxied);
  });
});
