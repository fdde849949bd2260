import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible, expectLive } from '../support/browser.js';
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

describe('the wallboard dialogs, in Chromium', () => {
  const thresholdsDialog = () => page.getByRole('dialog', { name: 'Alert thresholds' });
  const ordersBox = () => thresholdsDialog().getByRole('textbox', { name: /^Orders today/ });
  const ordersTileState = (p: Page) => p.getByTestId('tile-orders_today').getAttribute('data-state');

  it('thresholds: a wrong number is refused in place and saves nothing; a rule puts the tile in alert on every wallboard at once', async () => {
    await page.goto('/wallboard');
    await expectLive(page);
    const other = (await app.signIn(world.manager.email)).page;
    await other.setViewportSize({ width: 1920, height: 1080 });
    await other.goto('/wallboard');
    await expectLive(other);
    expect(await ordersTileState(other)).not.toBe('alert');

    await page.getByRole('button', { name: 'Thresholds' }).click();
    await expect.poll(() => ordersBox().isVisible()).toBe(true);
    await expectAccessible(page, 'dialog[open]');
    await ordersBox().fill('many');
    await thresholdsDialog().getByRole('button', { name: 'Save thresholds' }).click();
    await expect.poll(() => thresholdsDialog().getByText('A number, zero or more').isVisible()).toBe(true);
    expect(await ordersBox().getAttribute('aria-invalid')).toBe('true');
    expect((await db.sql.query(`SELECT count(*)::int AS n FROM wallboard_thresholds`)).rows[0].n).toBe(0);

    // Fewer than a thousand orders today: "below 1000" holds at once.
    await thresholdsDialog().getByRole('combobox', { name: 'Orders: alert when' }).selectOption('below');
    await ordersBox().fill('1000');
    await thresholdsDialog().getByRole('button', { name: 'Save thresholds' }).click();
    await expect.poll(() => thresholdsDialog().isVisible()).toBe(false);
    await expect.poll(() => ordersTileState(page)).toBe('alert');
    // The other manager's wallboard, never reloaded, shows it too.
    await expect.poll(() => ordersTileState(other)).toBe('alert');
    await other.context().close();

    // Opened again, the dialog shows the rule as saved.
    await page.getByRole('button', { name: 'Thresholds' }).click();
    await expect.poll(() => ordersBox().inputValue()).toBe('1000');
    expect(await thresholdsDialog().getByRole('combobox', { name: 'Orders: alert when' }).inputValue()).toBe(
      'below'
    );
    await page.keyboard.press('Escape');
    await expect.poll(() => thresholdsDialog().isVisible()).toBe(false);
  });

  it('TV links: a new link opens the wallboard with nobody signed in, and stops working the moment it is revoked', async () => {
    await page.goto('/wallboard');
    await expectLive(page);
    await page.getByRole('button', { name: 'TV links' }).click();
    const dialog = page.getByRole('dialog', { name: 'TV links' });
    await expect.poll(() => dialog.getByText('No TV links yet').isVisible()).toBe(true);
    await expectAccessible(page, 'dialog[open]');
    await dialog.getByLabel('Name the screen').fill('Support floor TV');
    await dialog.getByRole('button', { name: 'Create link' }).click();
    const link = dialog.getByRole('textbox', { name: 'TV link' });
    await expect.poll(() => link.isVisible()).toBe(true);
    const url = await link.inputValue();
    expect(url).toMatch(/\/tv\?token=/);
    await expect.poll(() => dialog.getByText('Support floor TV').isVisible()).toBe(true);

    // A TV: a browser nobody signed in on.
    const tv = await app.browser.newContext({ baseURL: app.server.url });
    const screen = await tv.newPage();
    await screen.setViewportSize({ width: 1920, height: 1080 });
    await screen.goto(url);
    await expect.poll(() => screen.getByTestId('tile-orders_today').isVisible()).toBe(true);
    await expectLive(screen);

    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('button', { name: 'Revoke link' }).click();
    await expect
      .poll(() => dialog.getByRole('listitem').filter({ hasText: 'Support floor TV' }).innerText())
      .toMatch(/Revoked/);
    // The TV, never reloaded, loses the wallboard.
    await expect.poll(() => screen.getByText('This wallboard link no longer works').isVisible()).toBe(true);
    expect(await screen.getByTestId('tile-orders_today').count()).toBe(0);
    await tv.close();
    await page.keyboard.press('Escape');
  });
});
