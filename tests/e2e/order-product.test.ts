import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible, expectLive, expectNoSidewaysScroll, within } from '../support/browser.js';
import { startBrowserApp, type BrowserApp } from '../support/browser-app.js';
import type { TestDatabase } from '../support/database.js';
import { createLoyaltyAccount, createOrder, createWorld, earnPoints } from '../support/fixtures.js';

// The order page refunds with a confirmation and shows what changed; the product page shows a
// receipt written in psql as it commits, with its low-stock flag flipping. Both pass axe.

let db: TestDatabase;
let app: BrowserApp;
let world: Awaited<ReturnType<typeof createWorld>>;
let manager: Page;
let orderId: number;
let kettle: number;

beforeAll(async () => {
  app = await startBrowserApp({
    seed: async (db) => {
      world = await createWorld(db.sql);
      const { rows } = await db.sql.query<{ id: number }>(
        `INSERT INTO products (sku, name, price, stock, low_stock_threshold) VALUES ('KET-E2E', 'Glass kettle', 30, 6, 5) RETURNING id`
      );
      kettle = rows[0].id;
      orderId = await createOrder(db.sql, {
        customerId: world.customerId,
        total: '30.00',
        externalId: 'WEB-9001'
      });
      await db.sql.query(
        `INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES ($1, $2, 1, 30)`,
        [orderId, kettle]
      );
      await db.sql.query(`UPDATE orders SET status = 'paid' WHERE id = $1`, [orderId]);
      const account = await createLoyaltyAccount(db.sql, world.customerId);
      await earnPoints(db.sql, {
        accountId: account,
        points: 30,
        reason: 'Order WEB-9001',
        key: `o:${orderId}`,
        orderId
      });
      await db.sql.query(
        `INSERT INTO reviews (customer_id, product_id, rating, title, body) VALUES ($1, $2, 2, 'Late', 'Order WEB-9001 came late')`,
        [world.customerId, kettle]
      );
    }
  });
  ({ db } = app);
  manager = (await app.signIn(world.manager.email)).page;
});
afterAll(() => app?.close());

describe('the order page', () => {
  it('refunds after a confirmation and shows the new status, stock and points without a reload', async () => {
    await manager.goto(`/orders/${orderId}`);
    await manager.getByRole('heading', { name: 'Order WEB-9001' }).waitFor();
    await expectLive(manager);
    await expectAccessible(manager);
    await manager.getByRole('button', { name: 'Refund', exact: true }).click();
    // Named by its title, described by its question, focus on the confirmation; Escape keeps it.
    const dialog = manager.getByRole('dialog', { name: 'Refund this order?' });
    await dialog.getByText('will be refunded in full').waitFor();
    const description = await dialog.evaluate((d) =>
      document.getElementById(d.getAttribute('aria-describedby') ?? '')?.textContent?.replace(/\s+/g, ' ')
    );
    expect(description).toContain('will be refunded in full');
    await within(() =>
      dialog.getByRole('button', { name: 'Refund order' }).evaluate((b) => b === document.activeElement)
    );
    await expectAccessible(manager);
    await manager.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await manager.getByRole('button', { name: 'Refund', exact: true }).click();
    // Keeping it changes nothing.
    await dialog.getByRole('button', { name: 'Keep it' }).click();
    expect(await manager.locator('[data-testid="order-page"]').getAttribute('data-status')).toBe('paid');
    await manager.getByRole('button', { name: 'Refund', exact: true }).click();
    await manager.getByRole('dialog').getByRole('button', { name: 'Refund order' }).click();
    await within(
      async () =>
        (await manager.locator('[data-testid="order-page"]').getAttribute('data-status')) === 'refunded'
    );
    await within(() =>
      manager.locator('[data-testid="status-history"] [data-status="refunded"]').isVisible()
    );
    await within(() => manager.getByText('1 taken, 1 back in stock').isVisible());
    expect(await manager.locator('[data-testid="order-points"]').innerText()).toMatch(/Taken back\s*30/);
    const { rows } = await db.sql.query(`SELECT stock FROM products WHERE id = $1`, [kettle]);
    expect(rows[0].stock).toBe(6);
  });

  it('follows a status change written in psql', async () => {
    const other = await createOrder(db.sql, { customerId: world.customerId, total: '30.00' });
    await manager.goto(`/orders/${other}`);
    await manager.getByRole('heading', { name: `Order #${other}` }).waitFor();
    await expectLive(manager);
    await db.sql.query(`UPDATE orders SET status = 'cancelled' WHERE id = $1`, [other]);
    await within(
      async () =>
        (await manager.locator('[data-testid="order-page"]').getAttribute('data-status')) === 'cancelled'
    );
  });
});

describe('the product page', () => {
  it('shows a receipt inserted in psql live, and the low-stock flag follows', async () => {
    await db.sql.query(
      `INSERT INTO stock_movements (product_id, kind, quantity, reason) VALUES ($1, 'adjust', -2, 'Count')`,
      [kettle]
    );
    await manager.goto(`/products/${kettle}`);
    await manager.getByRole('heading', { name: 'Glass kettle' }).waitFor();
    await expectLive(manager);
    const flag = manager.locator('[data-testid="stock-flag"]');
    expect(await flag.getAttribute('data-state')).toBe('low');
    expect(await manager.locator('[data-testid="review-order-link"]').getAttribute('href')).toBe(
      `/orders/${orderId}`
    );
    await expectAccessible(manager);

    await db.sql.query(
      `INSERT INTO stock_movements (product_id, kind, quantity, reason) VALUES ($1, 'receive', 25, 'Supplier delivery 77')`,
      [kettle]
    );
    await within(() =>
      manager
        .locator('[data-testid="movements"] tr[data-kind="receive"]')
        .getByText('Supplier delivery 77')
        .isVisible()
    );
    await within(async () => (await flag.getAttribute('data-state')) === 'in_stock');
    expect(await manager.locator('[data-testid="stock-count"]').innerText()).toBe('29');
  });

  it('records a movement through the dialog, and reads well on a phone', async () => {
    await manager.getByRole('button', { name: 'Record movement' }).click();
    const dialog = manager.getByRole('dialog', { name: 'Record a stock movement' });
    // Escape closes it; opened again, it starts empty.
    await dialog.getByLabel('Units').fill('9');
    await manager.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await manager.getByRole('button', { name: 'Record movement' }).click();
    expect(await dialog.getByLabel('Units').inputValue()).toBe('');
    // Refused by the check: the field says why, nothing is sent.
    await dialog.getByRole('button', { name: 'Record' }).click();
    await dialog.getByText('A whole number of units, not zero').waitFor();
    await dialog.getByLabel('Units').fill('3');
    await dialog.getByLabel('Reason').fill('Returned by courier');
    await expectAccessible(manager);
    await dialog.getByRole('button', { name: 'Record' }).click();
    await within(() =>
      manager.locator('[data-testid="movements"]').getByText('Returned by courier').isVisible()
    );
    expect(await manager.locator('[data-testid="stock-count"]').innerText()).toBe('32');

    await manager.setViewportSize({ width: 390, height: 844 });
    await expectNoSidewaysScroll(manager);
    await expectAccessible(manager);
    await manager.goto(`/orders/${orderId}`);
    await manager.getByRole('heading', { name: 'Order WEB-9001' }).waitFor();
    await expectNoSidewaysScroll(manager);
    await expectAccessible(manager);
    await manager.setViewportSize({ width: 1440, height: 900 });
  });
});
