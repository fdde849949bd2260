import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible, expectLive, expectNoSidewaysScroll } from '../support/browser.js';
import { startBrowserApp, type BrowserApp } from '../support/browser-app.js';
import type { TestDatabase } from '../support/database.js';
import { createWorld } from '../support/fixtures.js';

// The imports screen in a real browser: pick a file, see how it is read (delimiter, columns
// mapped, the first rows), dry run, import with a live bar, read the rejected rows and download
// them, find the import in the history; at 1440 and 390 px, passing axe.

const SHOTS = process.env.E2E_SCREENSHOTS;

let db: TestDatabase;
let app: BrowserApp;
let world: Awaited<ReturnType<typeof createWorld>>;

const FILE =
  'Email;First name;Last name;External id\n' +
  Array.from({ length: 30 }, (_, i) => `shopper${i + 1}@import-e2e.test;Shopper;No ${i + 1};L-${i + 1}`).join(
    '\n'
  ) +
  '\nnot-an-email;Broken;Row;L-99\n';

const shoot = async (page: Page, name: string) => {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
};

beforeAll(async () => {
  app = await startBrowserApp({
    seed: async (db) => {
      world = await createWorld(db.sql);
    },
    config: { IMPORT_BATCH_SIZE: '10' }
  });
  ({ db } = app);
}, 120_000);
afterAll(() => app?.close());

async function chooseFile(page: Page) {
  await page.getByTestId('import-file').setInputFiles({
    name: 'shoppers.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(FILE)
  });
  await expect.poll(() => page.getByTestId('import-preview').locator('tbody tr').count()).toBe(20);
}

const resultState = (page: Page) => page.getByTestId('import-result').getAttribute('data-state');

describe('the imports screen', () => {
  it('previews, dry runs and imports a file with live progress, and lists the rejected rows', async () => {
    const { context, page } = await app.signIn(world.manager.email);
    await page.goto('/imports');
    await expectLive(page, 15_000);
    await expect.poll(() => page.getByRole('heading', { name: 'Imports', level: 1 }).count()).toBe(1);
    await chooseFile(page);
    await expect
      .poll(() => page.getByTestId('import-detected').textContent())
      .toMatch(/CSV,\s+utf-8, semicolon-separated/);
    await expect.poll(() => page.getByLabel('Column for Email (required)').inputValue()).toBe('Email');
    await expect.poll(() => page.getByLabel('Column for Last name').inputValue()).toBe('Last name');
    await expect.poll(() => page.getByLabel('Column for External id').inputValue()).toBe('External id');

    // The source of the external ids: checked as it is typed, and nothing starts while it is wrong.
    const source = page.getByLabel('Source of external ids');
    await source.fill('Legacy CRM');
    await expect.poll(() => source.getAttribute('aria-invalid')).toBe('true');
    await expect.poll(() => page.getByText('lower-case letters, digits').count()).toBe(1);
    expect(await page.getByTestId('import-run').isDisabled()).toBe(true);
    expect(await page.getByTestId('import-dry-run').isDisabled()).toBe(true);
    await expectAccessible(page);
    await source.fill('legacy-crm');
    await expect.poll(() => source.getAttribute('aria-invalid')).toBe(null);
    await expectAccessible(page);
    await shoot(page, 'import-preview-1440');

    await page.getByTestId('import-dry-run').click();
    await expect.poll(() => resultState(page)).toBe('done');
    await expect.poll(() => page.getByTestId('count-imported').textContent()).toBe('30');
    const written = await db.sql.query(
      `SELECT count(*)::int AS n FROM customers WHERE email LIKE '%@import-e2e.test'`
    );
    expect(written.rows[0].n).toBe(0);

    await page.getByTestId('import-run').click();
    await expect.poll(() => page.getByTestId('import-result').textContent()).not.toMatch(/Dry run done/);
    await expect.poll(() => resultState(page)).toBe('done');
    await expect.poll(() => page.getByTestId('count-imported').textContent()).toBe('30');
    await expect.poll(() => page.getByTestId('count-rejected').textContent()).toBe('1');
    expect(await page.getByTestId('import-progress').getAttribute('aria-valuenow')).toBe('100');
    await expect.poll(() => page.getByTestId('import-rejects').locator('tbody tr').count()).toBe(1);
    expect(await page.getByTestId('import-rejects').locator('tbody tr').textContent()).toMatch(
      /32.*Email.*not valid/
    );
    const download = page.waitForEvent('download');
    await page.getByTestId('import-failed-rows').click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('shoppers-failed-rows.csv');
    await expect.poll(() => page.getByTestId('import-history').locator('tbody tr').count()).toBe(2);
    await expectAccessible(page);
    await shoot(page, 'import-result-1440');
    const stored = await db.sql.query(
      `SELECT count(*)::int AS n, array_agg(DISTINCT external_source) AS sources
         FROM customers WHERE email LIKE '%@import-e2e.test'`
    );
    // Their external ids belong to the source typed on the screen.
    expect(stored.rows[0]).toEqual({ n: 30, sources: ['legacy-crm'] });
    await context.close();
  }, 120_000);

  it('works at 390 px without sideways scrolling, from the keyboard', async () => {
    const { context, page } = await app.signIn(world.manager.email);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto('/imports');
    await expectLive(page, 15_000);
    await page.getByTestId('import-entity').focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe(
      'import-file'
    );
    await chooseFile(page);
    await expectNoSidewaysScroll(page);
    await expectAccessible(page);
    await shoot(page, 'import-preview-390');
    await page.getByTestId('import-dry-run').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => resultState(page)).toBe('done');
    await expectNoSidewaysScroll(page);
    await shoot(page, 'import-result-390');
    await context.close();
  }, 120_000);
});
