import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningPulse } from '../../server/pulse.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createUser, PASSWORD } from '../support/fixtures.js';
import { Browser } from '../support/http.js';
import { startTestServer } from '../support/server.js';

// Login throttling holds when guesses arrive all at once: of many simultaneous wrong passwords for
// one account (or from one address) only as many are tried as the limit allows.

const MAX_FAILURES = 5;
const WINDOW_MINUTES = 15;
const GUESSES = 24;

let db: TestDatabase;
let server: RunningPulse;

beforeAll(async () => {
  db = await createTestDatabase();
  // Behind a proxy, so that each test signs in from an address of its own (X-Forwarded-For):
  // throttling counts per address too.
  server = await startTestServer(db.url, {
    LOGIN_MAX_FAILURES: String(MAX_FAILURES),
    LOGIN_WINDOW_MINUTES: String(WINDOW_MINUTES),
    TRUST_PROXY: 'true'
  });
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

let addresses = 0;
/** A client address nobody has used yet (TEST-NET-2). */
const newAddress = () => `198.51.100.${++addresses}`;

const login = (from: string, email: string, password: string) =>
  new Browser(server.url).post('/api/auth/login', { email, password }, { 'x-forwarded-for': from });

const audited = async (action: string, email: string) =>
  Number(
    (
      await db.sql.query(`SELECT count(*) FROM audit_log WHERE action = $1 AND target_id = $2`, [
        action,
        email
      ])
    ).rows[0].count
  );

/**
 * Sends every login at once while another transaction keeps the audit log from taking rows, and
 * lets it go only when more of them than the limit are inside the database waiting for a lock:
 * they are all in flight together, whatever the machine's speed. Returns the responses.
 */
async function simultaneously(from: string, logins: { email: string; password: string }[]) {
  const holder = await db.sql.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE audit_log IN SHARE MODE');
    const responses = Promise.all(logins.map((l) => login(from, l.email, l.password)));
    await vi.waitFor(
      async () => {
        const { rows } = await db.sql.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`
        );
        expect(rows[0].n).toBeGreaterThan(MAX_FAILURES);
      },
      { timeout: 20_000, interval: 10 }
    );
    await holder.query('COMMIT');
    return await responses;
  } finally {
    await holder.query('ROLLBACK').catch(() => undefined);
    holder.release();
  }
}

const statuses = (responses: { status: number }[]) =>
  responses.reduce<Record<number, number>>((n, r) => ({ ...n, [r.status]: (n[r.status] ?? 0) + 1 }), {});

function expectThrottled(res: { status: number; headers: Headers; body: any }) {
  expect(res.status).toBe(429);
  expect(res.body.error.code).toBe('too_many_requests');
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(WINDOW_MINUTES * 60);
}

describe('simultaneous wrong passwords for one account', () => {
  it(
    'are tried only up to the limit, and the right password is refused afterwards',
    { timeout: 60_000 },
    async () => {
      const victim = await createUser(db.sql, { email: 'victim@test.dev', role: 'manager' });
      const from = newAddress();
      const guesses = Array.from({ length: GUESSES }, (_, i) => ({
        email: victim.email,
        password: `guess-${i}`
      }));

      const responses = await simultaneously(from, guesses);

      expect(statuses(responses)).toEqual({ 401: MAX_FAILURES, 429: GUESSES - MAX_FAILURES });
      for (const res of responses.filter((r) => r.status === 429)) expectThrottled(res);
      expect(await audited('auth.login_failed', victim.email)).toBe(MAX_FAILURES);
      expect(await audited('auth.login_throttled', victim.email)).toBe(GUESSES - MAX_FAILURES);

      // The owner, with the right password, waits for the window like everyone else.
      const owner = await login(from, victim.email, PASSWORD);
      expectThrottled(owner);
      expect(owner.setCookie.some((c) => c.startsWith('pulse_session='))).toBe(false);
      expect(
        Number(
          (await db.sql.query(`SELECT count(*) FROM sessions WHERE user_id = $1`, [victim.id])).rows[0].count
        )
      ).toBe(0);
    }
  );

  it('are answered the same for an email nobody has', { timeout: 60_000 }, async () => {
    const guesses = Array.from({ length: GUESSES }, (_, i) => ({
      email: 'nobody@test.dev',
      password: `guess-${i}`
    }));

    const responses = await simultaneously(newAddress(), guesses);

    expect(statuses(responses)).toEqual({ 401: MAX_FAILURES, 429: GUESSES - MAX_FAILURES });
    expect(responses.find((r) => r.status === 401)!.body).toMatchObject({
      error: { code: 'unauthenticated', message: 'Email or password is incorrect' }
    });
    expect(await audited('auth.login_failed', 'nobody@test.dev')).toBe(MAX_FAILURES);
  });

  it('do not count successful sign-ins toward the limit', async () => {
    const regular = await createUser(db.sql, { email: 'regular@test.dev', role: 'manager' });
    const from = newAddress();
    for (let i = 0; i < MAX_FAILURES + 1; i++)
      expect((await login(from, regular.email, PASSWORD)).status).toBe(200);
    for (let i = 0; i < MAX_FAILURES - 1; i++)
      expect((await login(from, regular.email, `typo-${i}`)).status).toBe(401);
    expect((await login(from, regular.email, PASSWORD)).status).toBe(200);
  });
});

describe('simultaneous wrong passwords from one address', () => {
  it('are tried only up to the address limit, across accounts', { timeout: 60_000 }, async () => {
    const from = newAddress();
    const addressLimit = MAX_FAILURES * 4;
    const guesses = Array.from({ length: addressLimit + 4 }, (_, i) => ({
      email: `someone-${i}@test.dev`,
      password: 'guess'
    }));

    const responses = await simultaneously(from, guesses);

    expect(statuses(responses)).toEqual({ 401: addressLimit, 429: 4 });
    const { rows } = await db.sql.query(
      `SELECT count(*)::int AS n FROM audit_log WHERE action = 'auth.login_failed' AND ip = $1`,
      [from]
    );
    expect(rows[0].n).toBe(addressLimit);
  });
});
