import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPulse } from '../../server/pulse.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createUser, createWorld, PASSWORD } from '../support/fixtures.js';
import { Browser, expectErrorShape } from '../support/http.js';
import { startTestServer } from '../support/server.js';

let db: TestDatabase;
let server: RunningPulse;
let world: Awaited<ReturnType<typeof createWorld>>;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  server = await startTestServer(db.url, { LOGIN_MAX_FAILURES: '3' });
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

const sessionValue = (b: Browser) => b.cookie.split('=')[1];
const auditCount = async (action: string, targetId: string) =>
  Number(
    (
      await db.sql.query(`SELECT count(*) FROM audit_log WHERE action = $1 AND target_id = $2`, [
        action,
        targetId
      ])
    ).rows[0].count
  );

describe('health', () => {
  it('answers 200 with the database and listener state', async () => {
    const res = await new Browser(server.url).get('/api/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', db: 'up', listener: 'connected' });
  });
});

describe('login', () => {
  it('signs in with a session cookie that scripts cannot read and other sites do not get', async () => {
    const b = new Browser(server.url);
    const res = await b.login(world.agentA.email);
    expect(res.body.user).toMatchObject({
      email: world.agentA.email,
      role: 'agent',
      team: { id: world.teamA, name: 'Team A' }
    });
    const cookie = res.setCookie.find((c) => c.startsWith('pulse_session='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).not.toMatch(/Secure/i); // plain http here

    const me = await b.get('/api/auth/me');
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(world.agentA.email);
    expect(await auditCount('auth.login', String(world.agentA.id))).toBeGreaterThan(0);
  });

  it('marks the cookie Secure when the browser reached Pulse over TLS', async () => {
    const proxied = await startTestServer(db.url, { TRUST_PROXY: 'true' });
    try {
      const res = await fetch(`${proxied.url}/api/auth/login`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          origin: 'https://crm.example.com',
          'x-forwarded-proto': 'https',
          'x-forwarded-host': 'crm.example.com'
        },
        body: JSON.stringify({ email: world.manager.email, password: PASSWORD })
      });
      expect(res.status).toBe(200);
      expect(res.headers.getSetCookie().join()).toMatch(/Secure/);
    } finally {
      await proxied.close();
    }
  });

  it('stores only the SHA-256 of the session id', async () => {
    const b = new Browser(server.url);
    await b.login(world.agentB.email);
    const raw = sessionValue(b);
    const { rows } = await db.sql.query(`SELECT id FROM sessions WHERE user_id = $1`, [world.agentB.id]);
    const ids = rows.map((r) => r.id);
    expect(ids).not.toContain(raw);
    expect(ids).toContain(createHash('sha256').update(raw).digest('hex'));
  });

  it('starts a new session at every login and ends the one the browser held', async () => {
    const b = new Browser(server.url);
    await b.login(world.manager.email);
    const first = b.cookie;
    await b.login(world.manager.email);
    expect(b.cookie).not.toBe(first);
    const stale = new Browser(server.url);
    stale.cookie = first;
    expect((await stale.get('/api/auth/me')).status).toBe(401);
  });

  it('gives the same answer for an unknown email and a wrong password', async () => {
    const b = new Browser(server.url);
    const unknown = await b.post('/api/auth/login', { email: 'nobody@test.dev', password: 'whatever-123' });
    const wrong = await b.post('/api/auth/login', { email: world.admin.email, password: 'wrong-password' });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    expectErrorShape(wrong.body);
    expect(await auditCount('auth.login_failed', world.admin.email)).toBe(1);
  });

  it('refuses an inactive user with the same answer', async () => {
    const inactive = await createUser(db.sql, { email: 'gone@test.dev', role: 'manager', active: false });
    const res = await new Browser(server.url).post('/api/auth/login', {
      email: inactive.email,
      password: PASSWORD
    });
    expect(res.status).toBe(401);
    expect(res.body.error.message).toBe('Email or password is incorrect');
  });

  it('throttles an account after repeated failures, even for the right password', async () => {
    const victim = await createUser(db.sql, { email: 'victim@test.dev', role: 'manager' });
    const b = new Browser(server.url);
    for (let i = 0; i < 3; i++)
      expect((await b.post('/api/auth/login', { email: victim.email, password: `guess-${i}` })).status).toBe(
        401
      );
    const blocked = await b.post('/api/auth/login', { email: victim.email, password: PASSWORD });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('too_many_requests');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another account from the same address is not locked by this one's failures.
    expect(
      (
        await new Browser(server.url).post('/api/auth/login', {
          email: world.agentA.email,
          password: PASSWORD
        })
      ).status
    ).toBe(200);
  });

  it('rejects malformed and invalid bodies with the error shape and changes nothing', async () => {
    const b = new Browser(server.url);
    const before = Number((await db.sql.query('SELECT count(*) FROM sessions')).rows[0].count);
    const malformed = await b.request('POST', '/api/auth/login', '{"email":', {});
    expect(malformed.status).toBe(400);
    expectErrorShape(malformed.body);
    const invalid = await b.post('/api/auth/login', { email: 'not-an-email', password: '' });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.code).toBe('validation_failed');
    expect(invalid.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
      'email',
      'password'
    ]);
    expect(Number((await db.sql.query('SELECT count(*) FROM sessions')).rows[0].count)).toBe(before);
  });
});

describe('sessions end', () => {
  it('on logout', async () => {
    const b = new Browser(server.url);
    await b.login(world.agentA.email);
    const held = b.cookie;
    const res = await b.post('/api/auth/logout');
    expect(res.status).toBe(200);
    const again = new Browser(server.url);
    again.cookie = held;
    expect((await again.get('/api/auth/me')).status).toBe(401);
  });

  it('when the user is deactivated, however that happens', async () => {
    const u = await createUser(db.sql, { email: 'leaver@test.dev', role: 'agent', teamId: world.teamA });
    const b = new Browser(server.url);
    await b.login(u.email);
    await db.sql.query(`UPDATE users SET active = false WHERE id = $1`, [u.id]);
    expect((await b.get('/api/auth/me')).status).toBe(401);
    expect(
      Number((await db.sql.query('SELECT count(*) FROM sessions WHERE user_id = $1', [u.id])).rows[0].count)
    ).toBe(0);
  });

  it('after the idle timeout', async () => {
    const u = await createUser(db.sql, { email: 'idle@test.dev', role: 'manager' });
    const b = new Browser(server.url);
    await b.login(u.email);
    await db.sql.query(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [
      u.id
    ]);
    const res = await b.get('/api/auth/me');
    expect(res.status).toBe(401);
    expectErrorShape(res.body);
  });

  it('at the absolute lifetime, however active the user is', async () => {
    const u = await createUser(db.sql, { email: 'marathon@test.dev', role: 'manager' });
    const b = new Browser(server.url);
    await b.login(u.email);
    // Created 8 days ago (the default maximum is 7) and due for a sliding extension.
    await db.sql.query(
      `UPDATE sessions SET created_at = now() - interval '8 days', expires_at = now() + interval '1 minute' WHERE user_id = $1`,
      [u.id]
    );
    expect((await b.get('/api/auth/me')).status).toBe(200); // still inside its last idle window...
    const { rows } = await db.sql.query(
      `SELECT expires_at <= now() AS over FROM sessions WHERE user_id = $1`,
      [u.id]
    );
    expect(rows[0].over).toBe(true); // ...but the extension was clamped to the absolute lifetime
    expect((await b.get('/api/auth/me')).status).toBe(401);
  });
});

describe('origin check', () => {
  it('refuses a state-changing request from another site or with no origin', async () => {
    const b = new Browser(server.url);
    await b.login(world.agentA.email);
    const foreign = await b.post('/api/auth/logout', {}, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('origin_rejected');
    const res = await fetch(`${server.url}/api/auth/logout`, {
      method: 'POST',
      headers: { cookie: b.cookie }
    });
    expect(res.status).toBe(403);
    expect((await b.get('/api/auth/me')).status).toBe(200); // still signed in: nothing changed
  });

  it('accepts a Referer from Pulse when a browser leaves Origin out', async () => {
    const res = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', referer: `${server.url}/login` },
      body: JSON.stringify({ email: world.agentB.email, password: PASSWORD })
    });
    expect(res.status).toBe(200);
  });
});

describe('unknown routes', () => {
  it('answer 404 in the error shape', async () => {
    const res = await new Browser(server.url).get('/api/nope');
    expect(res.status).toBe(404);
    expectErrorShape(res.body);
  });

  it('need a session for signed-in endpoints', async () => {
    const res = await new Browser(server.url).get('/api/auth/me');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthenticated');
  });
});
