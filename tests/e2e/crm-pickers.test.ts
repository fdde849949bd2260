import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible, expectLive, expectNoSidewaysScroll, within } from '../support/browser.js';
import { startBrowserApp, type BrowserApp } from '../support/browser-app.js';
import type { TestDatabase } from '../support/database.js';
import { createCustomer, createWorld } from '../support/fixtures.js';

// The CRM's pickers and editors in a real browser: bulk "set attribute" with a value typed by
// the attribute and checked before it is sent, bulk "set category" with a new category, the
// enum filter's combobox of the values in the data (keyboard only), and addresses edited on the
// 360 while a second viewer watches them change.

const SHOTS = process.env.SHOTS_DIR;
const MATCHING = 30;

let db: TestDatabase;
let app: BrowserApp;
let world: Awaited<ReturnType<typeof createWorld>>;
let page: Page;

const shoot = async (p: Page, name: string) => {
  if (SHOTS) await p.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: false });
};

beforeAll(async () => {
  app = await startBrowserApp({
    seed: async (db) => {
      world = await createWorld(db.sql);
      await db.sql.query(
        `INSERT INTO customers (email, first_name, last_name, addresses)
     SELECT 'picker' || g || '@pickers-e2e.test', 'Picker', 'No ' || g,
            jsonb_build_array(jsonb_build_object('label', 'home', 'line1', g || ' Main St', 'city', 'Town',
              'country', (ARRAY['DE', 'FR', 'FR', 'PT', 'ES'])[1 + g % 5], 'default', true))
       FROM generate_series(1, $1) g`,
        [MATCHING]
      );
      await db.sql.query(
        `INSERT INTO custom_attribute_definitions (entity, key, label, type, options)
     VALUES ('customer', 'score', 'Score', 'number', '{}'), ('customer', 'segment', 'Segment', 'choice', '{gold,silver}')`
      );
      await db.sql.query(`INSERT INTO categories (name) VALUES ('Lamps'), ('Chairs')`);
      await db.sql.query(
        `INSERT INTO products (sku, name, price) SELECT 'PICK-' || g, 'Picker product ' || g, 10 FROM generate_series(1, 6) g`
      );
    },
    config: { BULK_BATCH_SIZE: '10' }
  });
  ({ db } = app);
  page = (await app.signIn(world.manager.email)).page;
}, 180_000);
afterAll(() => app?.close());

describe('bulk set attribute and set category', () => {
  it('sets a number attribute on every matching customer; a bad value is refused before sending', async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto('/customers?q=pickers-e2e.test');
    await within(async () => (await page.getByTestId('list-row').count()) > 0);
    await page.getByRole('checkbox', { name: 'Select all loaded customers' }).check();
    const all = page.getByTestId('select-all-matching');
    if (await all.isVisible()) await all.click();
    await within(async () => (await page.getByTestId('selection-bar').innerText()).includes(`${MATCHING}`));

    await page.getByTestId('bulk-actions').click();
    await page.getByRole('menuitem', { name: 'Set attribute…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('combobox', { name: 'Attribute' }).selectOption({ label: 'Score' });
    const value = dialog.getByRole('textbox', { name: 'Value' });
    await value.fill('lots');
    await dialog.getByRole('button', { name: 'Apply' }).click();
    await within(async () => (await dialog.getByRole('alert').innerText()).includes('Score'));
    expect(await db.sql.query(`SELECT count(*)::int AS n FROM bulk_jobs`)).toMatchObject({
      rows: [{ n: 0 }]
    });

    await value.fill('42');
    await within(async () =>
      (await page.getByTestId('bulk-confirm-text').innerText()).startsWith(
        `Set Score to 42 on ${MATCHING} customers`
      )
    );
    await expectAccessible(page, '[role="dialog"]');
    await shoot(page, 'bulk-attribute-1440');
    await dialog.getByRole('button', { name: 'Apply' }).click();
    await within(
      async () =>
        (
          await page
            .getByTestId('bulk-result')
            .innerText()
            .catch(() => '')
        ).includes(`${MATCHING} updated`),
      30_000
    );
    const { rows } = await db.sql.query(
      `SELECT count(*)::int AS n FROM customers WHERE email LIKE '%@pickers-e2e.test' AND attributes -> 'score' = '42'`
    );
    expect(rows[0].n).toBe(MATCHING);
  });

  it('moves picked products to a new category made from the picker', async () => {
    await page.goto('/products?q=PICK-');
    await within(async () => (await page.getByTestId('list-row').count()) === 6);
    for (const n of [1, 2, 3])
      await page.getByRole('checkbox', { name: `Select Picker product ${n}` }).check();
    await page.getByTestId('bulk-actions').click();
    await page.getByRole('menuitem', { name: 'Set category…' }).click();
    const dialog = page.getByRole('dialog');
    const category = dialog.getByRole('combobox', { name: 'Category' });
    await within(async () => (await category.locator('option').count()) >= 4);
    await category.selectOption({ label: 'New category…' });
    await dialog.getByRole('textbox', { name: 'New category name' }).fill('Garden lights');
    await within(async () =>
      (await page.getByTestId('bulk-confirm-text').innerText()).includes(
        `Move 3 products to the category 'Garden lights'`
      )
    );
    await expectAccessible(page, '[role="dialog"]');
    await shoot(page, 'bulk-category-1440');
    await dialog.getByRole('button', { name: 'Apply' }).click();
    await within(
      async () =>
        (
          await page
            .getByTestId('bulk-result')
            .innerText()
            .catch(() => '')
        ).includes('3 updated'),
      30_000
    );
    const { rows } = await db.sql.query(
      `SELECT p.sku FROM products p JOIN categories c ON c.id = p.category_id WHERE c.name = 'Garden lights' ORDER BY p.sku`
    );
    expect(rows.map((r) => r.sku)).toEqual(['PICK-1', 'PICK-2', 'PICK-3']);
  });
});

describe('the enum filter’s values', () => {
  it('lists the countries in the data with counts; type, arrows, Enter and Escape pick them', async () => {
    await page.goto('/customers?q=pickers-e2e.test');
    await within(async () => (await page.getByTestId('list-row').count()) > 0);
    await page.getByTestId('filter-button').click();
    const editor = page.getByTestId('filter-editor');
    await editor.getByRole('button', { name: 'Add filter' }).click();
    await editor.getByLabel('Field').selectOption('country');
    const combo = editor.getByRole('combobox', { name: 'Country values' });
    await combo.focus();
    const list = editor.getByRole('listbox', { name: 'Country values' });
    await within(async () => (await list.getByRole('option').count()) >= 4);
    // Most used first: FR is the home of 12 of the 30.
    expect(await list.getByRole('option').first().innerText()).toContain('FR');
    await expectAccessible(page, '[data-testid="filter-editor"]');
    await shoot(page, 'filter-values-1440');

    await combo.pressSequentially('germ');
    await within(async () => (await list.getByRole('option').count()) === 1);
    await combo.press('ArrowDown');
    expect(await combo.getAttribute('aria-activedescendant')).toBeTruthy();
    await combo.press('Enter');
    await within(async () => (await list.getByRole('option', { selected: true }).count()) === 1);
    await combo.fill('');
    await combo.pressSequentially('pt');
    await combo.press('Enter');
    await combo.press('Escape');
    expect(await combo.getAttribute('aria-expanded')).toBe('false');
    expect(await editor.getByRole('list', { name: 'Chosen Country values' }).innerText()).toMatch(
      /DE[\s\S]*PT/
    );
    await editor.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/filter=/);
    // 6 in Germany (g % 5 = 0) and 6 in Portugal (g % 5 = 3).
    await within(async () => (await page.getByTestId('list-row').count()) === 12);
  });
});

describe('addresses on the customer 360', () => {
  let customerId: number;
  beforeAll(async () => {
    customerId = await createCustomer(db.sql, 'addresses@pickers-e2e.test', 'Adele');
  });

  it('adds, checks, edits, marks defaults and removes an address while a second viewer sees it live', async () => {
    const other = (await app.signIn(world.agentA.email)).page;
    await other.goto(`/customers/${customerId}`);
    await other.getByTestId('addresses').waitFor();
    await expectLive(other);

    await page.goto(`/customers/${customerId}`);
    const card = page.getByTestId('addresses');
    await card.waitFor();
    await card.getByRole('button', { name: 'Address' }).click();
    const form = card.getByRole('form', { name: 'New address' });
    await form.getByRole('textbox', { name: 'Label' }).fill('home');
    await form.getByRole('textbox', { name: 'Street and number' }).fill('1 Rua Augusta');
    await form.getByRole('textbox', { name: 'Postcode' }).fill('1100-053');
    await form.getByRole('textbox', { name: 'Country code' }).fill('p1');
    await form.getByRole('button', { name: 'Add address' }).click();
    // Checked before sending: the city is missing and the country is not a code.
    await within(async () => (await form.getByText('Is required').count()) === 1);
    await within(async () => (await form.getByText('Must be a two-letter country code').count()) === 1);
    expect(await form.getByRole('textbox', { name: 'City' }).getAttribute('aria-invalid')).toBe('true');
    await expectAccessible(page, '[data-testid="addresses"]');
    await shoot(page, 'address-form-1440');

    await form.getByRole('textbox', { name: 'City' }).fill('Lisboa');
    await form.getByRole('textbox', { name: 'Country code' }).fill('pt');
    await form.getByRole('button', { name: 'Add address' }).click();
    await within(async () => (await card.getByTestId('address').count()) === 1);
    // The first address is the default for shipping and billing.
    expect(await card.getByTestId('address').innerText()).toMatch(/Default shipping[\s\S]*Default billing/);
    await within(async () => (await other.getByTestId('address').count()) === 1);

    await card.getByRole('button', { name: 'Address' }).click();
    const second = card.getByRole('form', { name: 'New address' });
    await second.getByRole('textbox', { name: 'Label' }).fill('work');
    await second.getByRole('textbox', { name: 'Street and number' }).fill('5 Quai Voltaire');
    await second.getByRole('textbox', { name: 'City' }).fill('Paris');
    await second.getByRole('textbox', { name: 'Country code' }).fill('FR');
    await second.getByRole('textbox', { name: 'Country code' }).press('Enter');
    await within(async () => (await card.getByTestId('address').count()) === 2);
    await card.getByRole('button', { name: 'Bill here: make work the default billing address' }).click();
    await within(async () =>
      (await card.getByTestId('address').nth(1).innerText()).includes('Default billing')
    );
    await within(async () =>
      (await other.getByTestId('address').nth(1).innerText()).includes('Default billing')
    );

    await card.getByRole('button', { name: /^Edit work/ }).click();
    const edit = card.getByRole('form', { name: 'Edit address' });
    await edit.getByRole('textbox', { name: 'City' }).fill('Lyon');
    await edit.getByRole('button', { name: 'Save address' }).click();
    await within(async () => (await other.getByTestId('address').nth(1).innerText()).includes('Lyon'));

    await card.getByRole('button', { name: /^Remove home/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
    await within(async () => (await other.getByTestId('address').count()) === 1);
    const { rows } = await db.sql.query(`SELECT addresses FROM customers WHERE id = $1`, [customerId]);
    expect(rows[0].addresses).toEqual([
      { label: 'work', line1: '5 Quai Voltaire', city: 'Lyon', country: 'FR', default_billing: true }
    ]);
    const audits = await db.sql.query(
      `SELECT count(*)::int AS n FROM audit_log WHERE action = 'customer.updated' AND target_id = $1
          AND details -> 'changes' ? 'addresses'`,
      [String(customerId)]
    );
    expect(audits.rows[0].n).toBe(5);
    await other.context().close();
  }, 180_000);

  it('works on a 390 px screen without sideways scroll, and passes axe', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`/customers/${customerId}`);
    const card = page.getByTestId('addresses');
    await card.waitFor();
    await card.getByRole('button', { name: /^Edit work/ }).click();
    await card.getByRole('form', { name: 'Edit address' }).waitFor();
    await card.scrollIntoViewIfNeeded();
    await expectNoSidewaysScroll(page);
    await expectAccessible(page, '[data-testid="addresses"]');
    await shoot(page, 'address-form-390');
    await page.setViewportSize({ width: 1440, height: 900 });
  }, 60_000);
});
