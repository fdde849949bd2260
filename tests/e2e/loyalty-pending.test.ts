import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STARTING_PROGRAM } from '#shared/schemas/loyalty-program.js';
import { expectAccessible, expectLive, within } from '../support/browser.js';
import { startBrowserApp, type BrowserApp } from '../support/browser-app.js';
import type { TestDatabase } from '../support/database.js';
import { createCustomer, createLoyaltyAccount, createOrder, createWorld } from '../support/fixtures.js';

// Pending points in a real browser: an order paid by plain SQL earns points that show as pending
// on the open customer page, apart from the available ones, and they become available when the
// program's return window ends (here a few seconds, through a published version), by the
// server's own schedule.

let db: TestDatabase;
let app: BrowserApp;
let world: Awaited<ReturnType<typeof createWorld>>;
let page: Page;
let customerId: number;
let orderId: number;

/** Polls a condition on the page; the live path promises a second, the poll allows a few. */

const WINDOW_SECONDS = 4;

beforeAll(async () => {
  app = await startBrowserApp({
    seed: async (db) => {
      world = await createWorld(db.sql);
      customerId = await createCustomer(db.sql, 'petra@example.com', 'Petra');
      await createLoyaltyAccount(db.sql, customerId);
      orderId = await createOrder(db.sql, { customerId, total: '64.90' });
      // A program whose return window is a few seconds long, in effect from now.
      await db.sql.query(
        `INSERT INTO loyalty_program_versions (status, config, effective_at, published_at) VALUES ('published', $1, now(), now())`,
        [{ ...STARTING_PROGRAM, pendingDays: WINDOW_SECONDS / 86_400 }]
      );
      // The schedule wakes when the next window ends; at most a second between runs here.
    },
    config: { LOYALTY_SCHEDULE_SECONDS: '1' }
  });
  ({ db } = app);
  page = (await app.signIn(world.manager.email)).page;
});
afterAll(() => app?.close());

const text = async (testId: string) =>
  (await page.getByTestId(testId).count()) ? await page.getByTestId(testId).innerText() : null;

describe('pending points', () => {
  it('appear on an open customer page when an order is paid by SQL, then become available', async () => {
    await page.goto(`/customers/${customerId}`);
    await page.getByTestId('timeline').waitFor();
    await expectLive(page);
    expect(await text('points')).toBe('0');

    await db.sql.query(`UPDATE orders SET status = 'paid' WHERE id = $1`, [orderId]);

    await within(async () => (await text('points-pending')) === '+64 pending');
    expect((await text('points'))?.startsWith('0')).toBe(true);
    await expectAccessible(page, 'header');

    // The window ends and the schedule releases the lot: available, nothing pending.
    await within(async () => (await text('points')) === '64', (WINDOW_SECONDS + 6) * 1000);
    expect(await text('points-pending')).toBeNull();
    const { rows } = await db.sql.query(
      `SELECT a.balance, a.pending, l.pending AS lot_pending FROM loyalty_accounts a JOIN loyalty_lots l ON l.account_id = a.id
        WHERE a.customer_id = $1`,
      [customerId]
    );
    expect(rows).toEqual([{ balance: 64, pending: 0, lot_pending: false }]);
  });
});
