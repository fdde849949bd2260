import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPulse } from '../../server/pulse.js';
import { expectLive, launchChromium, signInPage } from '../support/browser.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createWorld, PASSWORD } from '../support/fixtures.js';
import { startTestServer } from '../support/server.js';

let db: TestDatabase;
let server: RunningPulse;
let browser: Browser;
let world: Awaited<ReturnType<typeof createWorld>>;
let page: Page;

const revenueText = () => page.getByTestId('tile-revenue_today').getByTestId('tile-value').innerText();
const ordersInChart = () =>
  page
    .locator('canvas[data-testid="chart-orders-per-minute"]')
    .getAttribute('data-total', { timeout: 5000 })
    .then(Number);

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  server = await startTestServer(db.url, {}, { serveFrontend: true });
  browser = await launchChromium();
  page = (await signInPage(browser, server.url, world.manager.email, PASSWORD)).page;
  await page.setViewportSize({ width: 1920, height: 1080 });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await db?.drop();
});

describe('the wallboard, in Chromium', () => {
  it('an order inserted by plain SQL moves the revenue tile and extends the orders chart within a second', async () => {
    await page.goto('/wallboard');
    await expect
      .poll(() => page.getByTestId('tile-revenue_today').isVisible(), { timeout: 10_000 })
      .toBe(true);
    await expectLive(page);
    const revenueBefore = await revenueText();
    const chartBefore = await ordersInChart();

    await db.sql.query(`INSERT INTO orders (customer_id, total, status) VALUES ($1, 1234.56, 'paid')`, [
      world.customerId
    ]);
    const t0 = Date.now();
    await expect.poll(revenueText, { timeout: 1000, interval: 25 }).not.toBe(revenueBefore);
    await expect.poll(ordersInChart, { timeout: 1000, interval: 25 }).toBe(chartBefore + 1);
    expect(Date.now() - t0).toBeLessThan(1000);
    await expect.poll(revenueText, { timeout: 3000 }).toMatch(/1,234/);
  });
});
