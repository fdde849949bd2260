import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectLive } from '../support/browser.js';
import { startBrowserApp, type BrowserApp } from '../support/browser-app.js';
import type { TestDatabase } from '../support/database.js';
import { createWorld } from '../support/fixtures.js';

let db: TestDatabase;
let app: BrowserApp;
let world: Awaited<ReturnType<typeof createWorld>>;
let page: Page;

const revenueText = () => page.getByTestId('tile-revenue_today').getByTestId('tile-value').innerText();
const ordersInChart = () =>
  page.locator('canvas[data-testid="chart-orders-per-minute"]').getAttribute('data-total').then(Number);

beforeAll(async () => {
  app = await startBrowserApp({
    seed: async (db) => {
      world = await createWorld(db.sql);
    }
  });
  ({ db } = app);
  page = (await app.signIn(world.manager.email)).page;
  await page.setViewportSize({ width: 1920, height: 1080 });
});
afterAll(() => app?.close());

describe('the wallboard, in Chromium', () => {
  it('an order inserted by plain SQL moves the revenue tile and extends the orders chart within a second', async () => {
    await page.goto('/wallboard');
    await expect.poll(() => page.getByTestId('tile-revenue_today').isVisible()).toBe(true);
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
    await expect.poll(revenueText).toMatch(/1,234/);
  });
});
