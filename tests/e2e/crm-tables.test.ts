import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPulse } from '../../server/pulse.js';
import { expectAccessible, expectLive, within } from '../support/browser.js';
import { startBrowserApp, type BrowserApp } from '../support/browser-app.js';
import type { TestDatabase } from '../support/database.js';
import { createCustomer, createOrder, createWorld } from '../support/fixtures.js';

let db: TestDatabase;
let app: BrowserApp;
let server: RunningPulse;
let browser: Browser;
let world: Awaited<ReturnType<typeof createWorld>>;
let page: Page;

/** Polls a condition on a page; the live path promises a second, the poll allows two. */

const rowIds = (p: Page) =>
  p
    .locator('[data-testid="list-row"]')
    .evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-id'))));
const cellTexts = (p: Page, field: string) =>
  p
    .locator(`[data-testid="list-row"] [data-field="${field}"]`)
    .evaluateAll((cells) => cells.map((c) => (c.textContent ?? '').trim()));
const headers = (p: Page) =>
  p
    .locator('[role="columnheader"]')
    .evaluateAll((hs) => hs.map((h) => (h.textContent ?? '').trim()).filter(Boolean));
const loaded = (p: Page) => within(() => p.locator('[data-testid="list-row"]').first().isVisible());

const TOTALS = ['19.00', '250.00', '75.50', '1200.00', '42.00', '310.00'];
const STATUSES = ['paid', 'refunded', 'shipped', 'refunded', 'delivered', 'paid'];
let orderIds: number[] = [];

beforeAll(async () => {
  app = await startBrowserApp({
    seed: async (db) => {
      world = await createWorld(db.sql);
      const dana = await createCustomer(db.sql, 'dana@example.com', 'Dana');
      const eli = await createCustomer(db.sql, 'eli@example.com', 'Eli');
      orderIds = [];
      for (const [i, total] of TOTALS.entries()) {
        orderIds.push(
          await createOrder(db.sql, {
            customerId: [world.customerId, dana, eli][i % 3],
            total,
            status: STATUSES[i],
            externalId: `SHOP-${1000 + i}`
          })
        );
      }
      // Oldest first by date, so the default sort (newest first) puts the last one on top.
      await db.sql.query(
        `UPDATE orders SET order_date = now() - (id * interval '1 hour') WHERE id = ANY($1)`,
        [orderIds]
      );
      await db.sql.query(
        `INSERT INTO products (sku, name, price, stock) VALUES
       ('MUG-001', 'Enamel mug', 14.00, 40), ('TEE-002', 'Heavy tee', 29.00, 3), ('CAP-003', 'Wool cap', 24.00, 0)`
      );
    }
  });
  ({ db, server, browser } = app);
  page = (await app.signIn(world.manager.email)).page;
});

afterAll(() => app?.close());

describe('the CRM tables', () => {
  it('an order inserted by plain SQL appears at the top of the open orders table, then changes and leaves live', async () => {
    await page.goto('/orders');
    await loaded(page);
    await expectLive(page);
    expect(await rowIds(page)).toHaveLength(TOTALS.length);

    const id = await createOrder(db.sql, { customerId: world.customerId, total: '88.00', status: 'paid' });
    await within(async () => (await rowIds(page))[0] === id);
    const row = page.locator(`[data-testid="list-row"][data-id="${id}"]`);
    expect(await row.locator('[data-field="total"]').textContent()).toContain('88.00');

    // A change updates the row in place.
    await db.sql.query(`UPDATE orders SET status = 'shipped' WHERE id = $1`, [id]);
    await within(async () =>
      ((await row.locator('[data-field="status"]').textContent()) ?? '').includes('Shipped')
    );
    expect((await rowIds(page))[0]).toBe(id);
    await expectAccessible(page);
  });

  it('scrolled down, new orders wait behind a "1 new" pill; clicking it scrolls up and shows them', async () => {
    const small = await page.context().newPage();
    await small.setViewportSize({ width: 1440, height: 420 });
    await small.goto('/orders');
    await loaded(small);
    await expectLive(small);
    await small.getByTestId('list-scroller').evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
    await within(async () => (await small.getByTestId('list-scroller').evaluate((el) => el.scrollTop)) > 100);

    const id = await createOrder(db.sql, { customerId: world.customerId, total: '64.00', status: 'paid' });
    const pill = small.getByTestId('new-rows-pill');
    await within(() => pill.isVisible());
    expect(await pill.textContent()).toContain('1 new');
    expect(await rowIds(small)).not.toContain(id);

    await pill.click();
    await within(async () => (await rowIds(small))[0] === id);
    await within(async () => (await small.getByTestId('list-scroller').evaluate((el) => el.scrollTop)) < 10);
    expect(await pill.count()).toBe(0);
    await small.close();
  });

  it('a row that stops matching the filter fades out; nothing reloads the page', async () => {
    const filter = { op: 'and', rules: [{ field: 'status', operator: 'is_any_of', value: ['paid'] }] };
    await page.goto(`/orders?filter=${encodeURIComponent(JSON.stringify(filter))}`);
    await loaded(page);
    await expectLive(page);
    const marker = await page.evaluate(
      () => ((window as unknown as { marker: number }).marker = Math.random())
    );
    const before = await rowIds(page);
    const leaving = orderIds[0];
    expect(before).toContain(leaving);

    await db.sql.query(`UPDATE orders SET status = 'delivered' WHERE id = $1`, [leaving]);
    await within(async () => !(await rowIds(page)).includes(leaving));
    expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(marker);
  });

  it('sorting by a header and filtering with the builder change the rows and the URL', async () => {
    await page.goto('/orders');
    await loaded(page);

    await page.getByRole('button', { name: 'Total', exact: true }).click();
    await page.waitForURL(/sort=-total/);
    const totals = () =>
      cellTexts(page, 'total').then((ts) => ts.map((t) => Number(t.replace(/[^0-9.]/g, ''))));
    await within(async () => (await totals())[0] === 1200);
    const sorted = await totals();
    expect(sorted).toEqual([...sorted].sort((a, b) => b - a));
    expect(await page.locator('[role="columnheader"][aria-sort="descending"]').textContent()).toContain(
      'Total'
    );
    // Shift+click adds a secondary sort (the headers number the keys); a plain click sorts by one again.
    await page.getByRole('button', { name: 'Items', exact: true }).click({ modifiers: ['Shift'] });
    await page.waitForURL((url) => url.searchParams.get('sort') === '-total,itemCount');
    await within(async () => (await page.locator('.sort-index').count()) === 2);
    await page.getByRole('button', { name: 'Total', exact: true }).click({ modifiers: ['Shift'] });
    await page.waitForURL((url) => url.searchParams.get('sort') === 'total,itemCount');
    await page.getByRole('button', { name: 'Total', exact: true }).click();
    await page.waitForURL((url) => url.searchParams.get('sort') === '-total');
    await within(async () => (await totals())[0] === 1200);

    await page.getByTestId('filter-button').click();
    const editor = page.getByTestId('filter-editor');
    await editor.getByRole('button', { name: 'Add filter' }).click();
    await editor.getByLabel('Field').selectOption('status');
    await editor.getByRole('button', { name: 'Refunded' }).click();
    await editor.getByRole('button', { name: 'Apply filters' }).click();

    await page.waitForURL(/filter=/);
    await within(async () => {
      const statuses = await cellTexts(page, 'status');
      return statuses.length === 2 && statuses.every((s) => s.includes('Refunded'));
    });
    expect(await page.getByTestId('filter-chips').textContent()).toContain('Status is Refunded');
    // Still sorted by total: the 1,200 refund first.
    expect((await totals())[0]).toBe(1200);
    // Export downloads what is on screen: the same filter and sort.
    const exportHref = await page.getByRole('link', { name: /Export orders/ }).getAttribute('href');
    expect(exportHref).toMatch(/^\/api\/orders\/export\.csv\?/);
    expect(new URLSearchParams(exportHref!.split('?')[1]).get('sort')).toBe('-total');
    expect(new URLSearchParams(exportHref!.split('?')[1]).get('filter')).toContain('refunded');
    await within(async () => ((await page.getByTestId('summary').textContent()) ?? '').includes('2 orders'));
  });

  it('a saved view round-trips through its URL: a new page shows the same filter, sort and columns', async () => {
    // Continues from the filtered, sorted table: hide a column too.
    await page.getByTestId('columns-button').click();
    await page.getByRole('menuitemcheckbox', { name: 'Channel' }).click();
    await page.waitForURL(/columns=/);
    await page.keyboard.press('Escape');
    expect(await headers(page)).not.toContain('Channel');

    await page.getByTestId('views-menu').click();
    await page.getByRole('menuitem', { name: /Save as new view/ }).click();
    await page.getByRole('textbox', { name: 'Name' }).fill('Big refunds');
    await page.getByRole('button', { name: 'Save view' }).click();
    await page.waitForURL(/view=\d+/);
    await within(async () =>
      ((await page.getByTestId('views-menu').textContent()) ?? '').includes('Big refunds')
    );

    const url = page.url();
    const ids = await rowIds(page);
    const columns = await headers(page);
    const other = await page.context().newPage();
    await other.goto(url);
    await loaded(other);
    await within(async () => JSON.stringify(await rowIds(other)) === JSON.stringify(ids));
    expect(await headers(other)).toEqual(columns);
    expect(await other.locator('[role="columnheader"][aria-sort="descending"]').textContent()).toContain(
      'Total'
    );
    expect(await other.getByTestId('filter-chips').textContent()).toContain('Status is Refunded');
    await within(async () =>
      ((await other.getByTestId('views-menu').textContent()) ?? '').includes('Big refunds')
    );

    // The view is stored: opened from the menu on a plain list, it brings the same state back.
    await other.goto('/orders');
    await loaded(other);
    await other.getByTestId('views-menu').click();
    await other.getByRole('menuitemradio', { name: 'Big refunds' }).click();
    await other.waitForURL(/view=\d+/);
    await within(async () => JSON.stringify(await rowIds(other)) === JSON.stringify(ids));
    await other.close();
  });

  it('a saved view is shared, renamed and deleted from the views menu', async () => {
    await page.goto('/products');
    await loaded(page);
    const menu = page.getByTestId('views-menu');
    await menu.click();
    await page.getByRole('menuitem', { name: /Save as new view/ }).click();
    await page.getByRole('textbox', { name: 'Name' }).fill('Catalogue');
    await page.getByRole('button', { name: 'Save view' }).click();
    await page.waitForURL(/view=\d+/);

    // A manager in no team shares with everyone. Reopening the menu fetches the list again; here
    // that list is read before the share is written and reaches the page after the share's own
    // answer, as a slow network can order them: the menu keeps the share.
    let releaseShare!: () => void;
    const shareHeld = new Promise<void>((resolve) => (releaseShare = resolve));
    let shareAnswered!: () => void;
    const shareDone = new Promise<void>((resolve) => (shareAnswered = resolve));
    await page.route(/\/api\/views\/\d+$/, async (route) => {
      if (route.request().method() !== 'PATCH') return route.continue();
      await shareHeld;
      const response = await route.fetch();
      await route.fulfill({ response });
      shareAnswered();
    });
    await page.route(/\/api\/views\?entity=/, async (route) => {
      const stale = await route.fetch();
      releaseShare();
      await shareDone;
      // The page has taken the share's answer (the menu's button shows the view as shared).
      await page.locator('[data-testid="views-menu"] .shared-dot').waitFor();
      await route.fulfill({ response: stale });
    });
    await menu.click();
    await page.getByRole('menuitemradio', { name: 'Everyone' }).click();
    await menu.click();
    await within(
      async () =>
        (await page.getByRole('menuitemradio', { name: 'Everyone' }).getAttribute('aria-checked')) === 'true'
    );
    await page.unrouteAll({ behavior: 'wait' });
    await page.getByRole('menuitem', { name: 'Rename…' }).click();
    await page.getByRole('textbox', { name: 'Name' }).fill('Whole catalogue');
    await page.getByRole('button', { name: 'Rename' }).click();
    await within(async () => ((await menu.textContent()) ?? '').includes('Whole catalogue'));
    const stored = await db.sql.query(
      `SELECT name, visibility FROM saved_views WHERE name = 'Whole catalogue'`
    );
    expect(stored.rows).toEqual([{ name: 'Whole catalogue', visibility: 'everyone' }]);

    await menu.click();
    await page.getByRole('menuitem', { name: 'Delete view' }).click();
    await page.getByRole('button', { name: 'Delete view' }).click();
    await within(async () => !page.url().includes('view='));
    expect(
      (await db.sql.query(`SELECT 1 FROM saved_views WHERE name = 'Whole catalogue'`)).rows
    ).toHaveLength(0);
  });

  it('search highlights the match; the customers and products tables open rows and pass axe', async () => {
    await page.goto('/customers');
    await loaded(page);
    await page.keyboard.press('/');
    await page.keyboard.type('dana');
    await page.waitForURL(/q=dana/);
    await within(
      async () => (await page.locator('[data-testid="list-row"] mark').first().textContent()) === 'Dana'
    );
    await within(async () => (await rowIds(page)).length === 1);
    // Typing kept the focus in the search box while the address bar followed it.
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement).type)).toBe('search');
    await expectAccessible(page);

    await page.keyboard.press('Escape');
    await page.keyboard.press('j');
    await page.keyboard.press('x');
    await within(() => page.locator('[data-testid="list-row"] input[type="checkbox"]').first().isChecked());
    expect(await page.getByTestId('selection-bar').textContent()).toContain('1 selected');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/customers\/\d+/);

    await page.goto('/products');
    await loaded(page);
    // The catalogue sorts by name: Enamel mug, Heavy tee, Wool cap.
    expect(await cellTexts(page, 'sku')).toEqual(['MUG-001', 'TEE-002', 'CAP-003']);
    const states = await cellTexts(page, 'stockState');
    expect(states).toEqual(expect.arrayContaining(['In stock', 'Low', 'Out']));
    await expectAccessible(page);
  });

  it('on a phone the table is a list of cards and the filters open in a sheet', async () => {
    const phone = await browser.newContext({ baseURL: server.url, viewport: { width: 390, height: 844 } });
    await phone.addCookies(await page.context().cookies());
    const p = await phone.newPage();
    await p.goto('/orders');
    await within(() => p.locator('[data-testid="list-card"]').first().isVisible());
    expect(await p.locator('[role="table"]').count()).toBe(0);
    expect(await p.locator('[data-testid="list-card"]').count()).toBeGreaterThanOrEqual(TOTALS.length);
    await expectAccessible(p);

    await p.getByTestId('filter-button').click();
    const sheet = p.getByRole('dialog', { name: 'Filters' });
    await within(() => sheet.isVisible());
    await sheet.evaluate((el) => Promise.all(el.getAnimations().map((a) => a.finished)));
    const box = await sheet.boundingBox();
    expect(box && Math.round(box.y + box.height)).toBe(844); // docked to the bottom
    await expectAccessible(p);
    await phone.close();
  });
});
