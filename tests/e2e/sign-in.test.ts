import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSessionId } from '../../server/auth/session-adapter.js';
import type { RunningPulse } from '../../server/pulse.js';
import { expectAccessible, expectLive, fillSignIn } from '../support/browser.js';
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

describe('a new user, in Chromium', () => {
  it('an admin creates an agent in the New user dialog (refused in place while the form is wrong), who then signs in', async () => {
    const { context, page } = await app.signIn(world.admin.email);
    await page.goto('/admin');
    await expect.poll(() => page.getByText('Agent A').first().isVisible()).toBe(true);
    // N opens the dialog, as its button says.
    await page.keyboard.press('n');
    const dialog = page.getByRole('dialog', { name: 'New user' });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    await expectAccessible(page, 'dialog[open]');
    const create = dialog.getByRole('button', { name: 'Create user' });

    // Nothing filled in: each field says what it needs, and the first one has the focus.
    await create.click();
    await expect.poll(() => dialog.getByText('Enter a name').isVisible()).toBe(true);
    expect(await dialog.getByText('Enter an email address').isVisible()).toBe(true);
    expect(await dialog.getByText('An agent needs a team').isVisible()).toBe(true);
    expect(await dialog.getByText('At least 8 characters').isVisible()).toBe(true);
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.getAttribute('aria-invalid')))
      .toBe('true');

    await dialog.getByLabel('Name').fill('Robin Reyes');
    await dialog.getByLabel('Email').fill(world.agentA.email);
    await dialog.getByLabel('Team').selectOption({ label: 'Team A' });
    await dialog.getByLabel('Initial password').fill('robin-initial-9');
    await create.click();
    // The server refuses an email someone already uses: said at the field, nobody created.
    await expect
      .poll(() => dialog.getByText('Someone already uses this email address').isVisible())
      .toBe(true);
    const robins = () =>
      db.sql
        .query(`SELECT count(*)::int AS n FROM users WHERE name = 'Robin Reyes'`)
        .then((r) => r.rows[0].n as number);
    expect(await robins()).toBe(0);

    await dialog.getByLabel('Email').fill('robin@test.dev');
    await create.click();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    await expect
      .poll(() => page.getByTestId('user-created').innerText())
      .toMatch(/Robin Reyes can now sign in as robin@test\.dev/);
    expect(await robins()).toBe(1);
    await context.close();

    // Robin signs in with the initial password and lands on Team A's console.
    const robin = await browser.newContext({ baseURL: server.url });
    const robinPage = await robin.newPage();
    await robinPage.goto('/login');
    await fillSignIn(robinPage, 'robin@test.dev', 'robin-initial-9');
    await robinPage.waitForURL('**/console');
    await expect.poll(() => robinPage.locator('.sidebar').getByText('Robin Reyes').isVisible()).toBe(true);
    await robin.close();
  });
});
