import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSessionId } from '../../server/auth/session-adapter.js';
import type { RunningPulse } from '../../server/pulse.js';
import { expectLive, fillSignIn } from '../support/browser.js';
import { startBrowserApp, type BrowserApp } from '../support/browser-app.js';
import type { TestDatabase } from '../support/database.js';
import { createWorld, PASSWORD } from '../support/fixtures.js';

let db: TestDatabase;
let app: BrowserApp;
let server: RunningPulse;
let browser: Browser;
let world: Awaited<ReturnType<typeof createWorld>>;

beforeAll(async () => {
  app = await startBrowserApp({
    seed: async (db) => {
      world = await createWorld(db.sql);
    }
  });
  ({ db, server, browser } = app);
});
afterAll(() => app?.close());

describe('signing in, in Chromium', () => {
  it('says so when the password is wrong, and offers no demo accounts on a real install', async () => {
    const context = await browser.newContext({ baseURL: server.url });
    const page = await context.newPage();
    await page.goto('/login');
    await fillSignIn(page, world.agentA.email, 'not-the-password');
    await expect.poll(() => page.getByText('Email or password is incorrect').isVisible()).toBe(true);
    expect(await page.getByText('Demo accounts').count()).toBe(0);
    expect(new URL(page.url()).pathname).toBe('/login');
    await context.close();
  });

  it('takes an agent to the console, live, with their name in the shell; signing out ends the session', async () => {
    const { context, page } = await app.signIn(world.agentA.email);
    expect(new URL(page.url()).pathname).toBe('/console');
    await expect.poll(() => page.locator('.sidebar').getByText('Agent A').isVisible()).toBe(true);
    await expectLive(page);
    // An agent's navigation has no manager screens.
    expect(await page.getByRole('link', { name: 'Wallboard' }).count()).toBe(0);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/login');
    const me = await page.evaluate(() => fetch('/api/auth/me').then((r) => r.status));
    expect(me).toBe(401);
    await context.close();
  });

  it('brings a signed-out visitor back to the page they asked for', async () => {
    const context = await browser.newContext({ baseURL: server.url });
    const page = await context.newPage();
    await page.goto('/customers');
    await page.waitForURL('**/login?next=%2Fcustomers');
    await fillSignIn(page, world.manager.email, PASSWORD);
    await page.waitForURL('**/customers');
    await context.close();
  });

  it('returns to the login page within seconds when the session is revoked elsewhere', async () => {
    const { context, page } = await app.signIn(world.manager.email);
    await expectLive(page);
    const cookie = (await context.cookies()).find((c) => c.name === 'pulse_session')!;
    await db.sql.query(`DELETE FROM sessions WHERE id = $1`, [hashSessionId(cookie.value)]);
    // The promise in the title: a revoked session is noticed live, not on the next navigation.
    await page.waitForURL('**/login**', { timeout: 5000 });
    await context.close();
  });
});
