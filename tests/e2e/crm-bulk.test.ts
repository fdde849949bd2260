import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoData } from '../../db/seed/index.js';
import { hashPassword } from '../../server/auth/password.js';
import { startBrowserApp, type BrowserApp } from '../support/browser-app.js';
import type { TestDatabase } from '../support/database.js';
import { PASSWORD } from '../support/fixtures.js';

// Select all matching (not only the loaded page), then a bulk tag the server runs in batches,
// with the exact count confirmed first and the progress and result shown live.

const MATCHING = 320;
const SHOTS = process.env.SHOTS_DIR;

let db: TestDatabase;
let app: BrowserApp;

beforeAll(async () => {
  app = await startBrowserApp({
    seed: async (db) => {
      await seedDemoData(db.url, { customers: 40, passwordHash: await hashPassword(PASSWORD) });
      await db.sql.query(
        `INSERT INTO customers (email, first_name, last_name)
     SELECT 'shopper' || g || '@bulk-e2e.test', 'Shopper', 'No ' || g FROM generate_series(1, $1) g`,
        [MATCHING]
      );
    },
    config: { BULK_BATCH_SIZE: '40' }
  });
  ({ db } = app);
}, 120_000);
afterAll(() => app?.close());

const shoot = async (page: Page, name: string) => {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: false });
};

describe('bulk actions in the customers table', () => {
  it('tags every customer matching the search, not only the loaded page, after confirming the count', async () => {
    const { context, page } = await app.signIn('manager@pulse.demo');
    await page.goto('/customers?q=bulk-e2e.test');
    await expect.poll(() => page.getByTestId('list-row').count()).toBeGreaterThan(0);
    const loaded = await page.getByTestId('list-row').count();
    expect(loaded).toBeLessThan(MATCHING);

    await page.getByRole('checkbox', { name: 'Select all loaded customers' }).check();
    await page.getByTestId('select-all-matching').click();
    await expect.poll(() => page.getByTestId('selection-bar').innerText()).toContain(`All ${MATCHING}`);
    await shoot(page, 'bulk-selection-1440');

    await page.getByTestId('bulk-actions').click();
    await page.getByRole('menuitem', { name: 'Add tags…' }).click();
    await page.getByRole('dialog').getByRole('textbox', { name: 'Tags' }).fill('vip, Spring Sale');
    await expect
      .poll(() => page.getByTestId('bulk-confirm-text').innerText())
      .toBe(`Add tags 'vip', 'spring sale' to ${MATCHING} customers.`);
    await shoot(page, 'bulk-confirm-1440');
    await page.getByRole('button', { name: 'Apply' }).click();

    // The job's bar, then its result, on the page; and a toast.
    const tray = page.getByTestId('bulk-tray');
    await expect.poll(() => tray.isVisible()).toBe(true);
    await expect
      .poll(
        () =>
          page
            .getByTestId('bulk-result')
            .innerText()
            .catch(() => ''),
        { timeout: 20_000 }
      )
      .toContain(`${MATCHING} updated`);
    await expect
      .poll(() =>
        page
          .getByRole('status')
          .getByText(/^Done: Add tags/)
          .count()
      )
      .toBeGreaterThan(0);
    await shoot(page, 'bulk-done-1440');

    const { rows } = await db.sql.query<{ matching: boolean; n: number }>(
      `SELECT email LIKE '%@bulk-e2e.test' AS matching, count(*)::int AS n FROM customers
        WHERE tags @> ARRAY['vip', 'spring sale'] GROUP BY 1`
    );
    expect(rows).toEqual([{ matching: true, n: MATCHING }]);
    await context.close();
  });

  it('shows the selection bar, the confirmation and the progress on a 390 px screen', async () => {
    // The newest match (the first card) carries the tag, whatever ran before.
    await db.sql.query(
      `UPDATE customers SET tags = ARRAY['vip', 'spring sale'] WHERE email = 'shopper${MATCHING}@bulk-e2e.test'`
    );
    const { context, page } = await app.signIn('manager@pulse.demo');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto('/customers?q=bulk-e2e.test');
    await expect.poll(() => page.getByTestId('list-card').count()).toBeGreaterThan(0);
    await page
      .getByRole('checkbox', { name: /^Select Shopper/ })
      .first()
      .check();
    await page.getByTestId('bulk-actions').click();
    await page.getByRole('menuitem', { name: 'Remove tags…' }).click();
    await page.getByRole('dialog').getByRole('textbox', { name: 'Tags' }).fill('vip');
    await expect
      .poll(() => page.getByTestId('bulk-confirm-text').innerText())
      .toBe(`Remove tag 'vip' from 1 customer.`);
    await shoot(page, 'bulk-confirm-390');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect
      .poll(
        () =>
          page
            .getByTestId('bulk-result')
            .innerText()
            .catch(() => ''),
        { timeout: 20_000 }
      )
      .toContain('1 updated');
    // The card follows the change live.
    await expect.poll(() => page.getByTestId('list-card').first().innerText()).not.toContain('vip');
    await shoot(page, 'bulk-done-390');
    await context.close();
  });

  it('offers an agent no bulk action on all matching rows', async () => {
    const { context, page } = await app.signIn('agent@pulse.demo');
    await page.goto('/customers?q=bulk-e2e.test');
    await expect.poll(() => page.getByTestId('list-row').count()).toBeGreaterThan(0);
    await page.getByRole('checkbox', { name: 'Select all loaded customers' }).check();
    // A page of picked rows: tagging is offered.
    expect(await page.getByTestId('bulk-actions').count()).toBe(1);
    await page.getByTestId('select-all-matching').click();
    await expect.poll(() => page.getByTestId('bulk-actions').count()).toBe(0);
    await context.close();
  });
});
