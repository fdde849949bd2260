import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible, expectLive, expectNoSidewaysScroll } from '../support/browser.js';
import { startBrowserApp, type BrowserApp } from '../support/browser-app.js';
import type { TestDatabase } from '../support/database.js';
import { createWorld } from '../support/fixtures.js';

// Campaigns in a real browser: a manager creates one from the form, launches it, and the report
// follows an order written by plain SQL without a reload. The screens pass axe at 1440 and 390 px.
// SHOTS=<dir> saves screenshots.

const SHOTS = process.env.SHOTS;
let db: TestDatabase;
let app: BrowserApp;
let world: Awaited<ReturnType<typeof createWorld>>;
let page: Page;

const shot = async (name: string) => {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
};
const armCell = (row: string, arm: 'treatment' | 'holdout') =>
  page.locator(`[data-testid="arms"] tr:has(th:text-is("${row}")) td[data-arm="${arm}"]`);

beforeAll(async () => {
  app = await startBrowserApp({
    seed: async (db) => {
      world = await createWorld(db.sql);
      // A segment of the segments engine (compiled and filled by the server when it starts): 30
      // customers tagged as lapsed VIPs.
      await db.sql.query(`INSERT INTO segments (name, rule) VALUES ('Lapsed VIPs', $1::jsonb)`, [
        JSON.stringify({ op: 'and', rules: [{ field: 'tags', operator: 'any', value: ['lapsed-vip'] }] })
      ]);
      await db.sql.query(
        `INSERT INTO customers (email, first_name, tags)
     SELECT 'vip' || g || '@example.com', 'Vip', '{lapsed-vip}' FROM generate_series(1, 30) g`
      );
    }
  });
  ({ db } = app);
  page = (await app.signIn(world.manager.email)).page;
});
afterAll(() => app?.close());

describe('campaigns', () => {
  it('creates a campaign from the form, launches it, and the report follows an order written by SQL', async () => {
    // The server filled the segment when it started (its first reconcile).
    await expect
      .poll(
        async () =>
          Number(
            (
              await db.sql.query(
                `SELECT count(*) FROM segment_members m JOIN segments s ON s.id = m.segment_id WHERE s.name = 'Lapsed VIPs'`
              )
            ).rows[0].count
          ),
        {
          timeout: 20_000
        }
      )
      .toBe(30);
    await page.goto('/campaigns');
    await page.getByText('No campaigns yet').waitFor();
    await expectAccessible(page);
    await page.getByRole('link', { name: 'New campaign' }).click();

    await page.getByLabel('Name').fill('Come back for 250');
    // Built-in segments are offered too: pick ours.
    const { rows: ours } = await db.sql.query<{ id: number }>(
      `SELECT id FROM segments WHERE name = 'Lapsed VIPs'`
    );
    await expect.poll(() => page.getByLabel('Segment').inputValue()).not.toBe('');
    await page.getByLabel('Segment').selectOption(String(ours[0].id));
    await page.getByLabel('Bonus points per member').fill('250');
    await page.getByLabel('Holdout share (%)').fill('20');
    await expectAccessible(page);
    await shot('campaign-new-1440');
    await page.getByRole('button', { name: 'Create draft' }).click();

    await page.waitForURL(/\/campaigns\/\d+$/);
    const id = Number(new URL(page.url()).pathname.split('/').pop());
    await page.getByText('Not launched yet').waitFor();
    await page.getByRole('button', { name: 'Launch' }).click();
    await page.getByText('Launched: 30 members assigned.').waitFor();
    await expectLive(page);

    const { rows } = await db.sql.query<{ customer_id: number; arm: string }>(
      `SELECT customer_id, arm FROM campaign_members WHERE campaign_id = $1 ORDER BY customer_id`,
      [id]
    );
    expect(rows).toHaveLength(30);
    const treated = rows.filter((r) => r.arm === 'treatment');
    const heldOut = rows.filter((r) => r.arm === 'holdout');
    await expect.poll(() => armCell('Members', 'treatment').innerText()).toBe(String(treated.length));
    expect(await armCell('Members', 'holdout').innerText()).toBe(String(heldOut.length));
    expect(await armCell('Orders', 'treatment').innerText()).toBe('0');
    expect(await armCell('Bonus points given', 'treatment').innerText()).toBe(
      (250 * treated.length).toLocaleString('en-US')
    );

    // A shop writes an order for a treated member, by plain SQL: the report follows without a reload.
    await db.sql.query(`INSERT INTO orders (customer_id, total, status) VALUES ($1, 120.00, 'paid')`, [
      treated[0].customer_id
    ]);
    await expect.poll(() => armCell('Orders', 'treatment').innerText()).toBe('1');
    expect(await armCell('Revenue', 'treatment').innerText()).toContain('120.00');
    expect(await armCell('Orders', 'holdout').innerText()).toBe('0');
    expect(await page.getByTestId('lift-revenue').innerText()).toMatch(/95% CI/);

    await page.getByTestId('campaign-chart').waitFor();
    await expectAccessible(page);
    await expectNoSidewaysScroll(page);
    await shot('campaign-report-1440');

    await page.setViewportSize({ width: 390, height: 844 });
    await expectAccessible(page);
    await expectNoSidewaysScroll(page);
    await shot('campaign-report-390');
    await page.goto('/campaigns');
    await page.getByTestId('campaign-row').waitFor();
    await expectNoSidewaysScroll(page);
    await shot('campaigns-390');
    await page.setViewportSize({ width: 1440, height: 900 });
    await shot('campaigns-1440');
  });
});
