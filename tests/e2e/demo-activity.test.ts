import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoData } from '../../db/seed/index.js';
import { hashPassword } from '../../server/auth/password.js';
import type { RunningPulse } from '../../server/pulse.js';
import { fillSignIn, launchChromium, signInPage } from '../support/browser.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { PASSWORD } from '../support/fixtures.js';
import { startTestServer } from '../support/server.js';

// The app shell's "Demo activity" pill on a server running the demo's simulated activity.

let db: TestDatabase;
let demo: RunningPulse;
let plain: RunningPulse;
let browser: Browser;

beforeAll(async () => {
  db = await createTestDatabase();
  await seedDemoData(db.url, { customers: 40, passwordHash: await hashPassword(PASSWORD) });
  demo = await startTestServer(db.url, {}, { serveFrontend: true, demoActivity: { intervalMs: 500 } });
  plain = await startTestServer(db.url, {}, { serveFrontend: true });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await demo?.close();
  await plain?.close();
  await db?.drop();
});

/** The server's answer, asked from the page (with its session). */
const serverState = (page: import('playwright-core').Page) =>
  page.evaluate(() => fetch('/api/demo-activity').then((r) => r.json() as Promise<{ running: boolean }>));

describe('demo activity in the app shell', () => {
  it('shows a manager that it runs, and pauses and resumes it from the mouse and the keyboard', async () => {
    const { context, page } = await signInPage(browser, demo.url, 'manager@pulse.demo', PASSWORD);
    const sidebar = page.locator('.sidebar');
    await expect.poll(() => sidebar.getByText('Demo activity').isVisible()).toBe(true);
    expect(await sidebar.getByText('Running').isVisible()).toBe(true);

    await sidebar.getByRole('button', { name: 'Pause demo activity' }).click();
    await expect
      .poll(() => sidebar.getByRole('button', { name: 'Resume demo activity' }).isVisible())
      .toBe(true);
    expect(await sidebar.getByText('Paused').isVisible()).toBe(true);
    expect(await serverState(page)).toMatchObject({ running: false });

    // Keyboard: the button is in the tab order and Enter presses it.
    await sidebar.getByRole('button', { name: 'Resume demo activity' }).focus();
    await page.keyboard.press('Enter');
    await expect
      .poll(() => sidebar.getByRole('button', { name: 'Pause demo activity' }).isVisible())
      .toBe(true);
    expect(await serverState(page)).toMatchObject({ running: true });
    await context.close();
  });

  it('shows an agent its state with no button to change it', async () => {
    const { context, page } = await signInPage(browser, demo.url, 'agent@pulse.demo', PASSWORD);
    const sidebar = page.locator('.sidebar');
    await expect.poll(() => sidebar.getByText('Demo activity').isVisible()).toBe(true);
    expect(await sidebar.getByText('Running').isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: /demo activity/i }).count()).toBe(0);
    await context.close();
  });

  it('keeps only the button in the top bar of a 390 px screen, and it works there', async () => {
    const { context, page } = await signInPage(browser, demo.url, 'manager@pulse.demo', PASSWORD);
    await page.setViewportSize({ width: 390, height: 844 });
    const bar = page.getByRole('banner');
    const pause = bar.getByRole('button', { name: 'Pause demo activity' });
    await expect.poll(() => pause.isVisible()).toBe(true);
    // The words are for screen readers only; the bar does not overflow.
    const label = await bar.getByText('Demo activity').boundingBox();
    expect(label!.width).toBeLessThanOrEqual(1);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await pause.click();
    await expect.poll(() => bar.getByRole('button', { name: 'Resume demo activity' }).isVisible()).toBe(true);
    expect(await serverState(page)).toMatchObject({ running: false });
    await bar.getByRole('button', { name: 'Resume demo activity' }).click();
    await expect.poll(() => bar.getByRole('button', { name: 'Pause demo activity' }).isVisible()).toBe(true);
    await context.close();
  });

  it('shows nothing on a server that does not run it', async () => {
    const context = await browser.newContext({ baseURL: plain.url, viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/demo-activity');
    await page.goto('/login');
    await fillSignIn(page, 'manager@pulse.demo', PASSWORD);
    // Once the shell's own question has been answered (and a frame drawn), there is still no pill.
    expect(await (await answered).json()).toMatchObject({ available: false });
    await expect.poll(() => page.locator('.sidebar').getByText('Maya Manager').isVisible()).toBe(true);
    await page.evaluate(() => new Promise(requestAnimationFrame));
    expect(await page.getByText('Demo activity').count()).toBe(0);
    await context.close();
  });
});
