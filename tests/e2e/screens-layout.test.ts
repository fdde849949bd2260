import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPulse } from '../../server/pulse.js';
import { expectAccessible, expectNoSidewaysScroll, fillSignIn } from '../support/browser.js';
import { startBrowserApp, type BrowserApp } from '../support/browser-app.js';
import { createOrder, createTicket, createWorld, PASSWORD } from '../support/fixtures.js';

let app: BrowserApp;
let server: RunningPulse;
let browser: Browser;
let world: Awaited<ReturnType<typeof createWorld>>;
let ticketId: number;
const LONG_PRODUCT = 'Hand-thrown stoneware espresso cups with walnut saucers, set of two';

beforeAll(async () => {
  app = await startBrowserApp({
    seed: async (db) => {
      world = await createWorld(db.sql);
      await createOrder(db.sql, { customerId: world.customerId, total: '42.50' });
      ticketId = await createTicket(db.sql, {
        customerId: world.customerId,
        teamId: world.teamA,
        subject: 'Where is the parcel I ordered three weeks ago for my sister’s birthday?'
      });
      await db.sql.query(`UPDATE tickets SET assignee_id = $1 WHERE id = $2`, [world.agentA.id, ticketId]);
      // A best seller with a long name, for the analytics' top products.
      const product = await db.sql.query<{ id: number }>(
        `INSERT INTO products (sku, name, price, stock) VALUES ('CUP-2', $1, 24.00, 10) RETURNING id`,
        [LONG_PRODUCT]
      );
      const order = await createOrder(db.sql, {
        customerId: world.customerId,
        total: '48.00',
        status: 'paid'
      });
      await db.sql.query(
        `INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES ($1, $2, 2, 24.00)`,
        [order, product.rows[0].id]
      );
      // Enough conversation that a phone's thread scrolls (it opens at the newest message).
      for (let n = 1; n <= 6; n++)
        await db.sql.query(
          `INSERT INTO ticket_messages (ticket_id, author_type, body) VALUES ($1, 'customer', $2)`,
          [
            ticketId,
            `Message ${n}: the parcel was due on Monday, the tracking page has said "in transit" since, and nobody answers the phone at the depot.`
          ]
        );
    }
  });
  ({ server, browser } = app);
});
afterAll(() => app?.close());

type Box = { x: number; y: number; width: number; height: number };
const intersects = (a: Box, b: Box) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

async function signedIn(email: string, width: number): Promise<Page> {
  const context = await browser.newContext({
    baseURL: server.url,
    viewport: { width, height: width < 600 ? 844 : 900 }
  });
  const page = await context.newPage();
  await page.goto('/login');
  await fillSignIn(page, email, PASSWORD);
  await page.waitForURL((url) => !url.pathname.startsWith('/login'));
  return page;
}

describe.each([1440, 390])('the existing screens at %i px wide', (width) => {
  it('the console queue: no sideways scrolling, every ticket subject readable, accessible', async () => {
    const page = await signedIn(world.agentA.email, width);
    await page.goto('/console?view=mine');
    const row = page.locator(`[data-testid="queue-row"][data-ticket-id="${ticketId}"]`);
    await row.waitFor();
    const title = await row.locator('.title').boundingBox();
    expect(title!.width).toBeGreaterThan(120);
    await expectNoSidewaysScroll(page);
    await expectAccessible(page);
    await page.context().close();
  });

  it('a ticket: the subject is on screen, nothing overlaps the actions, accessible', async () => {
    const page = await signedIn(world.agentA.email, width);
    await page.goto(`/console/tickets/${ticketId}`);
    const subject = page.locator('[data-testid="ticket-screen"] h1 .subject');
    await subject.waitFor();
    const [s, resolve] = await Promise.all([
      subject.boundingBox(),
      page.locator('[data-testid="resolve"]').boundingBox()
    ]);
    expect(s!.width).toBeGreaterThan(150);
    const overlaps =
      s!.x < resolve!.x + resolve!.width &&
      resolve!.x < s!.x + s!.width &&
      s!.y < resolve!.y + resolve!.height &&
      resolve!.y < s!.y + s!.height;
    expect(overlaps).toBe(false);
    // Nothing else in the header's first row (number, viewers, claim, pager) sits on the title.
    const title = (await page.locator('[data-testid="ticket-screen"] h1').boundingBox())!;
    for (const other of await page.locator('[data-testid="ticket-screen"] header .row1 > :not(h1)').all()) {
      const box = await other.boundingBox();
      if (box && box.width > 0 && box.height > 0) expect(intersects(title, box)).toBe(false);
    }
    // On a phone the thread opens scrolled to the newest message: the day label does not sit on
    // a message in view (on wider screens it stays pinned over the thread, as chat apps do).
    if (width < 600) {
      const thread = page.getByTestId('thread');
      await thread.getByTestId('message').first().waitFor();
      expect(await thread.evaluate((el) => el.scrollHeight > el.clientHeight)).toBe(true);
      const day = (await thread.locator('.day span').first().boundingBox())!;
      const view = (await thread.boundingBox())!;
      for (const message of await thread.getByTestId('message').all()) {
        const box = (await message.boundingBox())!;
        if (box.y + box.height > view.y && box.y < view.y + view.height)
          expect(intersects(day, box)).toBe(false);
      }
    }
    await expectNoSidewaysScroll(page);
    await expectAccessible(page);
    await page.context().close();
  });

  it('the dashboard, analytics and wallboard (manager): no sideways scrolling, accessible', async () => {
    const page = await signedIn(world.manager.email, width);
    for (const path of ['/', '/analytics', '/wallboard']) {
      await page.goto(path);
      await page.locator('main h1').first().waitFor();
      await page.waitForLoadState('networkidle');
      await expectNoSidewaysScroll(page);
      await expectAccessible(page);
    }
    await page.context().close();
  });

  it('the analytics top products: a long product name reads whole', async () => {
    const page = await signedIn(world.manager.email, width);
    await page.goto('/analytics');
    const name = page.getByTestId('report-top-products').getByText(LONG_PRODUCT);
    await name.waitFor();
    // Cut short with an ellipsis, the text would be wider than its box.
    expect(await name.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
    expect((await name.boundingBox())!.width).toBeGreaterThan(200);
    await page.context().close();
  });

  it('the admin settings (admin): no sideways scrolling, accessible', async () => {
    const page = await signedIn(world.admin.email, width);
    await page.goto('/admin');
    await page.locator('main h1').first().waitFor();
    await page.waitForLoadState('networkidle');
    await expectNoSidewaysScroll(page);
    await expectAccessible(page);
    await page.context().close();
  });
});
