import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPulse } from '../../server/pulse.js';
import { shopifyOrder } from '../fixtures/storefront/shopify.js';
import { sendShopify } from '../integration/storefront-support.js';
import { expectAccessible, expectLive, expectNoSidewaysScroll } from '../support/browser.js';
import { startBrowserApp, type BrowserApp } from '../support/browser-app.js';
import { createWorld } from '../support/fixtures.js';

// The stores admin in a real browser: an admin creates a Shopify store, sees its secret once,
// and a delivery signed with that secret appears in the store's list as it is received and
// applied, without a reload. At 1440 and 390 px, with no serious axe findings.

let app: BrowserApp;
let server: RunningPulse;
let world: Awaited<ReturnType<typeof createWorld>>;
let page: Page;

beforeAll(async () => {
  app = await startBrowserApp({
    seed: async (db) => {
      world = await createWorld(db.sql);
    },
    config: { STORE_INBOX_POLL_MS: '200' }
  });
  ({ server } = app);
  page = (await app.signIn(world.admin.email)).page;
});
afterAll(() => app?.close());

describe('stores admin', () => {
  it('creates a store, shows its secret once, and shows a delivery live', async () => {
    await page.goto('/admin/stores');
    await expect.poll(() => page.getByText('No stores yet').count()).toBe(1);
    await page.getByRole('button', { name: 'New store' }).first().click();
    await page.getByLabel('Name').fill('Main shop');
    await page.getByLabel('Platform').selectOption('shopify');
    await page.getByLabel('Shop domain (optional)').fill('example.myshopify.com');
    await page.getByRole('button', { name: 'Create store' }).click();

    const secret = (await page.getByTestId('secret-value').textContent())!.trim();
    expect(secret).toMatch(/^whsec_/);
    await expectLive(page, 10_000);
    await expectAccessible(page);
    await page.screenshot({ path: 'test-results/stores-1440-secret.png', fullPage: true });

    // The API never returns it again: the list shows only its last four characters.
    const listed = await page.evaluate(async () => (await fetch('/api/stores')).text());
    expect(listed).not.toContain(secret);
    expect(listed).toContain(secret.slice(-4));
    await page.getByRole('button', { name: 'Done' }).click();
    expect(await page.getByTestId('secret-value').count()).toBe(0);

    const sent = await sendShopify(server.url, {
      secret,
      topic: 'orders/create',
      payload: shopifyOrder({ id: 5001, email: 'browser@example.com' })
    });
    expect(sent.status).toBe(200);
    const row = page.getByTestId('store-deliveries').locator('li', { hasText: 'orders/create' });
    await expect.poll(() => row.count()).toBe(1);
    await expect.poll(() => row.getAttribute('data-state')).toBe('processed');
    expect(await row.textContent()).toMatch(/Order #\d+ created \(paid\)/);
    await expectAccessible(page);
    await page.screenshot({ path: 'test-results/stores-1440.png', fullPage: true });

    await page.setViewportSize({ width: 390, height: 844 });
    await expectNoSidewaysScroll(page);
    await page.screenshot({ path: 'test-results/stores-390.png', fullPage: true });
  });
});
