import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible, expectLive, expectNoSidewaysScroll } from '../support/browser.js';
import { startBrowserApp, type BrowserApp } from '../support/browser-app.js';
import type { TestDatabase } from '../support/database.js';
import { createCustomer, createLoyaltyAccount, createWorld, earnPoints } from '../support/fixtures.js';

// The loyalty screen in a real browser: the reports with data, a ledger entry written by plain
// SQL appearing in the recent activity live, and the program editor from draft to publish.
// PULSE_SHOTS=<dir> keeps screenshots at 1440 and 390 px.

const SHOTS = process.env.PULSE_SHOTS;
const shoot = async (page: Page, name: string) => {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
};

let db: TestDatabase;
let app: BrowserApp;
let page: Page;
let world: Awaited<ReturnType<typeof createWorld>>;
const accounts: Record<string, number> = {};

beforeAll(async () => {
  app = await startBrowserApp({
    seed: async (db) => {
      world = await createWorld(db.sql);
      // Lifetime points: one gold member between 8,000 and 10,000, one above, silver, bronze.
      for (const [name, points] of [
        ['Gina', 9000],
        ['Gail', 12000],
        ['Sam', 3000],
        ['Bo', 400]
      ] as const) {
        const customerId = await createCustomer(db.sql, `${name.toLowerCase()}@example.com`, name);
        const accountId = await createLoyaltyAccount(db.sql, customerId);
        // Members since two months, so the tier trend has a "30 days ago" to compare with.
        await db.sql.query(
          `UPDATE loyalty_accounts SET joined_at = now() - interval '60 days' WHERE id = $1`,
          [accountId]
        );
        await earnPoints(db.sql, { accountId, points, reason: `Welcome back, ${name}`, key: `seed:${name}` });
        accounts[name] = accountId;
      }
      await db.sql.query(
        `INSERT INTO loyalty_ledger (account_id, kind, points, reason, idempotency_key)
     VALUES ($1, 'redeem', -500, '$5 voucher', 'seed:redeem')`,
        [accounts.Gail]
      );
    }
  });
  ({ db } = app);
  page = (await app.signIn(world.manager.email)).page;
});

afterAll(() => app?.close());

describe('the loyalty screen', () => {
  it('shows members by tier, top members, the liability and the activity', async () => {
    await page.goto('/loyalty');
    await page.getByTestId('tier-gold').waitFor();
    await expectLive(page);
    await expect.poll(() => page.getByTestId('tier-gold').innerText()).toContain('2');
    // 9,000 + 12,000 + 3,000 + 400 - 500 points at a cent.
    await expect.poll(() => page.getByTestId('stat-outstanding').innerText()).toContain('23,900');
    expect(await page.getByTestId('stat-outstanding').innerText()).toContain('$239.00');
    expect(await page.getByTestId('report-top').innerText()).toContain('Gail');
    await expect
      .poll(() => page.getByTestId('chart-activity').getAttribute('data-total'))
      .toBe(String(9000 + 12000 + 3000 + 400));
  });

  it('adds a ledger entry written by plain SQL to the recent activity, live', async () => {
    await page.goto('/loyalty');
    await page.getByTestId('recent-activity').getByText('$5 voucher').waitFor();
    await expectLive(page);
    const { rows } = await db.sql.query<{ id: string }>(
      `INSERT INTO loyalty_ledger (account_id, kind, points, reason, idempotency_key)
       VALUES ($1, 'earn', 777, 'Order SHOP-4242', 'e2e:live') RETURNING id`,
      [accounts.Sam]
    );
    const entry = page.locator(`[data-entry="${rows[0].id}"]`);
    await entry.waitFor({ timeout: 5000 });
    expect(await entry.innerText()).toContain('Order SHOP-4242');
    expect(await entry.innerText()).toContain('+777');
    // The sums follow once the burst settles.
    await expect.poll(() => page.getByTestId('stat-outstanding').innerText()).toContain('24,677');
  });

  it('has no serious accessibility findings and no sideways scroll, at 1440 and 390 px', async () => {
    for (const width of [1440, 390]) {
      await page.setViewportSize({ width, height: 900 });
      await page.goto('/loyalty');
      await page.getByTestId('tier-gold').waitFor();
      await page.getByTestId('chart-activity').waitFor();
      await expectAccessible(page);
      await expectNoSidewaysScroll(page);
      await shoot(page, `loyalty-${width}`);
    }
    await page.setViewportSize({ width: 1440, height: 900 });
  });
});

describe('the program editor', () => {
  it('shows field errors the rules find, without saving', async () => {
    await page.goto('/loyalty/program');
    await page.getByRole('button', { name: 'Start a draft' }).click();
    await page.getByTestId('threshold-silver').fill('9000');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByText('Each tier needs more than the one below').first().waitFor();
    expect(await page.getByTestId('threshold-gold').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByRole('alert').innerText()).toContain('need');
    await page.getByTestId('threshold-silver').fill('2000');
  });

  it('edits the draft, previews its impact with a progress bar, and publishes it', async () => {
    await page.getByTestId('threshold-gold').fill('10000');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByText('Draft saved.').waitFor();
    await page.getByRole('button', { name: 'Preview impact' }).click();
    const result = page.getByTestId('preview-result');
    await result.waitFor({ timeout: 20_000 });
    // Gina (9,000) falls below the new gold threshold; nobody moves up.
    expect(await page.getByTestId('preview-down').innerText()).toBe('1');
    expect(await page.getByTestId('preview-up').innerText()).toBe('0');

    for (const width of [1440, 390]) {
      await page.setViewportSize({ width, height: 900 });
      await expectAccessible(page);
      await expectNoSidewaysScroll(page);
      await shoot(page, `loyalty-program-${width}`);
    }
    await page.setViewportSize({ width: 1440, height: 900 });

    await page.getByRole('button', { name: 'Publish…' }).click();
    await page
      .getByRole('group', { name: 'Confirm publishing' })
      .getByRole('button', { name: 'Publish' })
      .click();
    await page.getByText('Version 2 published').waitFor();
    await page.getByText('1 member keeps their tier').waitFor();
    await page.getByRole('button', { name: 'Start a draft' }).waitFor();
    const { rows } = await db.sql.query(`SELECT kept_tier FROM loyalty_tier_grace WHERE account_id = $1`, [
      accounts.Gina
    ]);
    expect(rows).toEqual([{ kept_tier: 'gold' }]);
    expect(await page.getByRole('complementary', { name: 'Versions' }).innerText()).toMatch(
      /Version 2\s*In force/
    );
  });
});

describe('the program editor’s multipliers', () => {
  it('picks categories and products by name, saves their ids, and shows the names again', async () => {
    const { rows: cats } = await db.sql.query<{ id: number }>(
      `INSERT INTO categories (name) VALUES ('Lighting') RETURNING id`
    );
    const { rows: products } = await db.sql.query<{ id: number }>(
      `INSERT INTO products (sku, name, price, stock, category_id)
       VALUES ('LAMP-01', 'Brass desk lamp', 80, 10, $1) RETURNING id`,
      [cats[0].id]
    );
    await page.goto('/loyalty/program');
    await page.getByRole('button', { name: 'Start a draft' }).click();

    await page.getByRole('button', { name: 'Add a category multiplier' }).click();
    const category = page.getByTestId('category-multiplier').getByLabel('Category');
    await category.selectOption({ label: 'Lighting' });
    await page.getByTestId('category-multiplier').getByLabel('Multiplier').fill('1.5');

    await page.getByRole('button', { name: 'Add a product multiplier' }).click();
    // Unpicked, the draft cannot be saved.
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByTestId('product-multiplier').getByText('Pick a product').waitFor();
    await page.getByRole('combobox', { name: 'Product values' }).fill('brass');
    await page.getByRole('option', { name: /Brass desk lamp/ }).click();
    await page.getByTestId('product-multiplier').getByLabel('Multiplier').fill('3');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByText('Draft saved.').waitFor();

    const { rows } = await db.sql.query(
      `SELECT config -> 'earn' -> 'categoryMultipliers' AS categories, config -> 'earn' -> 'productMultipliers' AS products
         FROM loyalty_program_versions WHERE status = 'draft'`
    );
    expect(rows).toEqual([
      {
        categories: [{ categoryId: cats[0].id, multiplier: 1.5 }],
        products: [{ productId: products[0].id, multiplier: 3 }]
      }
    ]);

    await page.reload();
    await expect
      .poll(() => page.getByRole('list', { name: 'Chosen Product values' }).innerText())
      .toContain('Brass desk lamp');
    expect(
      await page
        .getByTestId('category-multiplier')
        .getByLabel('Category')
        .evaluate((s: HTMLSelectElement) => s.selectedOptions[0].text)
    ).toBe('Lighting');
    await expectAccessible(page);
    await expectNoSidewaysScroll(page);

    // The categories are read once a page: discarding the draft and starting another reads none.
    const reads: string[] = [];
    const onRequest = (r: Request) => {
      if (new URL(r.url()).pathname === '/api/categories') reads.push(r.method());
    };
    page.on('request', onRequest);
    await page.getByRole('button', { name: 'Discard' }).click();
    await page.getByText('Draft discarded.').waitFor();
    await page.getByRole('button', { name: 'Start a draft' }).click();
    await page.getByRole('button', { name: 'Add a category multiplier' }).click();
    await page.getByTestId('category-multiplier').getByLabel('Category').selectOption({ label: 'Lighting' });
    page.off('request', onRequest);
    expect(reads).toEqual([]);
  });
});
