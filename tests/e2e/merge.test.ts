import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible, expectLive } from '../support/browser.js';
import { startBrowserApp, type BrowserApp } from '../support/browser-app.js';
import { createDatabaseCustomer } from './merge-fixtures.js';
import { createOrder, createWorld } from '../support/fixtures.js';
import type { TestDatabase } from '../support/database.js';

// A manager merges two customers through the dialog of the duplicates screen; another manager's
// screen drops the pair as the merge commits, and the data moved.

let db: TestDatabase;
let app: BrowserApp;
let world: Awaited<ReturnType<typeof createWorld>>;
let mia: Page;
let max: Page;

beforeAll(async () => {
  app = await startBrowserApp({
    seed: async (db) => {
      world = await createWorld(db.sql);
    }
  });
  ({ db } = app);
  mia = (await app.signIn(world.manager.email)).page;
  max = (await app.signIn(world.admin.email)).page;
});
afterAll(() => app?.close());

describe('merging two customers', () => {
  it(
    'through the dialog: the choices apply, orders move, and another screen drops the pair live',
    { timeout: 60_000 },
    async () => {
      const keep = await createDatabaseCustomer(db.sql, {
        email: 'nora.north@example.com',
        first: 'Nora',
        last: 'North'
      });
      const gone = await createDatabaseCustomer(db.sql, {
        email: 'Nora.North+shop@example.com',
        first: 'Norah',
        last: 'North',
        phone: '+1 (212) 555-0188'
      });
      const order = await createOrder(db.sql, { customerId: gone, total: '42.00', status: 'paid' });

      for (const page of [mia, max]) {
        await page.goto('/duplicates');
        await expectLive(page);
      }
      const pair = (page: Page) => page.locator('[data-testid="duplicate-pair"]', { hasText: 'Norah' });
      await expect.poll(() => pair(max).count()).toBe(1);
      await expect.poll(() => pair(mia).count()).toBe(1);
      await expectAccessible(mia);

      await pair(mia).getByRole('button', { name: 'Compare and merge…' }).click();
      const dialog = mia.getByRole('dialog', { name: 'Merge customers' });
      await expect.poll(() => dialog.getByText('What moves to Nora North').count()).toBe(1);
      expect(await dialog.locator('li', { hasText: 'order' }).first().textContent()).toMatch(
        /^\s*1\s+order\s*$/
      );
      // Keep the survivor's name, take the merged customer's phone.
      await dialog.getByRole('group', { name: 'Primary phone' }).getByLabel('+1 (212) 555-0188').check();
      await expectAccessible(mia, 'dialog[open]');
      await dialog.getByRole('button', { name: 'Merge', exact: true }).click();

      await expect
        .poll(() =>
          mia
            .getByRole('status')
            .filter({ hasText: `Merged Norah North (#${gone})` })
            .count()
        )
        .toBe(1);
      // The other manager's screen drops the pair without a reload.
      await expect.poll(() => pair(max).count()).toBe(0);
      await expect.poll(() => pair(mia).count()).toBe(0);

      const { rows } = await db.sql.query(
        `SELECT (SELECT customer_id FROM orders WHERE id = $1) AS owner, c.phone, c.first_name,
              (SELECT merged_into FROM customers WHERE id = $3) AS merged_into
         FROM customers c WHERE c.id = $2`,
        [order, keep, gone]
      );
      expect(rows[0]).toEqual({
        owner: keep,
        phone: '+1 (212) 555-0188',
        first_name: 'Nora',
        merged_into: keep
      });
    }
  );

  it(
    'from the survivor’s profile: the merged customer’s open page moves to the survivor’s and says why, live; its URL leads there',
    { timeout: 60_000 },
    async () => {
      const keep = await createDatabaseCustomer(db.sql, {
        email: 'omar.ortiz@example.com',
        first: 'Omar',
        last: 'Ortiz'
      });
      const gone = await createDatabaseCustomer(db.sql, {
        email: 'omar.ortiz+old@example.com',
        first: 'Omar',
        last: 'Ortiz'
      });
      await createOrder(db.sql, { customerId: gone, total: '15.00', status: 'paid' });

      await max.goto(`/customers/${gone}`);
      await expectLive(max);
      await max.getByTestId('customer-360').waitFor();
      await mia.goto(`/customers/${keep}`);
      await expectLive(mia);
      await mia.getByText('Possible duplicates').waitFor();
      // (The rest of the profile is the customer 360's, checked by its own tests.)
      await expectAccessible(mia, '.duplicate-suggestions');

      await mia
        .locator('li', { hasText: 'omar.ortiz+old@example.com' })
        .getByRole('button', { name: 'Merge…' })
        .click();
      const dialog = mia.getByRole('dialog', { name: 'Merge customers' });
      await dialog.getByText('What moves to Omar Ortiz').waitFor();
      await dialog.getByRole('button', { name: 'Merge', exact: true }).click();

      // The merged customer's page, open elsewhere, moves to the survivor's and says why, live.
      await max.waitForURL(`**/customers/${keep}?mergedFrom=${gone}`);
      const banner = max.getByTestId('merged-banner');
      await expect
        .poll(() => banner.textContent())
        .toContain(`Customer #${gone} (Omar Ortiz) was merged into this customer`);
      await expectAccessible(max, '[data-testid="merged-banner"]');
      // The old URL leads there too.
      await max.goto(`/customers/${gone}`);
      await max.waitForURL(`**/customers/${keep}?mergedFrom=${gone}`);
      await max.getByTestId('customer-360').waitFor();
      // The survivor's page reloaded: the merge is on its timeline.
      await expect
        .poll(() =>
          mia.getByText(`Omar Ortiz (#${gone}) merged into this customer`, { exact: false }).count()
        )
        .toBeGreaterThan(0);
    }
  );
});
