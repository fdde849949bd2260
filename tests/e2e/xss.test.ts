import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectLive, within } from '../support/browser.js';
import { startBrowserApp, type BrowserApp } from '../support/browser-app.js';
import { createUser, createWorld } from '../support/fixtures.js';

// Stored text renders inert: markup, scripts, `javascript:` URLs and template syntax written
// into the database by SQL (an import, a webhook, a customer's own words) are shown as the
// characters they are, on every screen that shows them. A payload that ran would set
// `window.__xss` or open a dialog.

const RUN = 'window.__xss=(window.__xss||0)+1';
const AGENT = `Eve <img src=x onerror="${RUN};alert(1)">`;
const TEAM = `Team <svg onload="${RUN}">`;
const FIRST_NAME = `Mallory <script>${RUN};alert(1)</script>`;
const LAST_NAME = `"><img src=x onerror=${RUN}>`;
const EMAIL = `"><svg/onload=alert(1)>@evil.example`;
const CUSTOMER_TAG = `<b onmouseover=${RUN}>vip</b>`;
const SUBJECT = `Refund <img src=x onerror="${RUN};alert(1)"> {@html '<b>x</b>'} javascript:alert(1)`;
const TICKET_TAG = `<iframe srcdoc="<script>parent.__xss=1</script>">`;
const CUSTOMER_MESSAGE = `Hello <script>${RUN};alert(1)</script> <a href="javascript:${RUN}">my order</a> &lt;b&gt;literal&lt;/b&gt; {{constructor.constructor('${RUN}')()}}`;
const REPLY = `On it <img src=x onerror=${RUN}> {@html '<img src=x onerror=${RUN}>'}`;
const CANNED_TITLE = `<img src=x onerror=${RUN}> Apology`;
const CANNED_BODY = `Sorry {{customer.first_name}} <script>${RUN}</script> javascript:${RUN}`;
const PRODUCT = `<img src=x onerror="${RUN}"> Mug`;
const CATEGORY = `<svg onload=${RUN}> Kitchen`;

let app: BrowserApp;
let world: Awaited<ReturnType<typeof createWorld>>;
let ticketId: number;
/** Every dialog any page opened: a payload that ran would open one. */
const dialogs: string[] = [];

/** Signs in and watches for dialogs. */
async function pageFor(email: string): Promise<Page> {
  const { page } = await app.signIn(email);
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  return page;
}

/** Nothing ran and nothing was injected: no marker, no dialog, no element a payload would have made. */
async function expectInert(page: Page) {
  const found = await page.evaluate(() => ({
    ran: (window as unknown as { __xss?: number }).__xss ?? 0,
    injected: [...document.querySelectorAll('*')]
      .filter(
        (el) =>
          [...el.attributes].some((a) => /^on/i.test(a.name)) ||
          (el.tagName === 'IMG' && el.getAttribute('src') === 'x') ||
          (el.tagName === 'A' && /^\s*javascript:/i.test(el.getAttribute('href') ?? '')) ||
          el.tagName === 'IFRAME' ||
          (el.tagName === 'SCRIPT' && (el.textContent ?? '').includes('__xss'))
      )
      .map((el) => el.outerHTML.slice(0, 160))
  }));
  expect(found).toEqual({ ran: 0, injected: [] });
  expect(dialogs).toEqual([]);
}

/** The text is on the page as written (somewhere inside `scope`). */
const shows = (scope: ReturnType<Page['locator']> | Page, text: string) => () =>
  scope.getByText(text, { exact: false }).first().isVisible();

beforeAll(async () => {
  app = await startBrowserApp({
    seed: async (db) => {
      world = await createWorld(db.sql);
      await db.sql.query(`UPDATE teams SET auto_assign = false`);
      await db.sql.query(`UPDATE teams SET name = $1 WHERE id = $2`, [TEAM, world.teamA]);
      const eve = await createUser(db.sql, {
        email: 'eve@test.dev',
        role: 'agent',
        teamId: world.teamA,
        name: AGENT
      });
      await db.sql.query(`UPDATE users SET status = 'online' WHERE id = $1`, [eve.id]);

      const customer = (
        await db.sql.query(
          `INSERT INTO customers (email, first_name, last_name, tags, notes) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
          [EMAIL, FIRST_NAME, LAST_NAME, [CUSTOMER_TAG], CUSTOMER_MESSAGE]
        )
      ).rows[0].id;
      ticketId = (
        await db.sql.query(
          `INSERT INTO tickets (customer_id, team_id, subject, tags, assignee_id) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
          [customer, world.teamA, SUBJECT, [TICKET_TAG], eve.id]
        )
      ).rows[0].id;
      await db.sql.query(
        `INSERT INTO ticket_messages (ticket_id, author_type, body) VALUES ($1, 'customer', $2)`,
        [ticketId, CUSTOMER_MESSAGE]
      );
      await db.sql.query(
        `INSERT INTO ticket_messages (ticket_id, author_type, author_user_id, body) VALUES ($1, 'agent', $2, $3)`,
        [ticketId, eve.id, REPLY]
      );
      await db.sql.query(`INSERT INTO canned_responses (title, body) VALUES ($1, $2)`, [
        CANNED_TITLE,
        CANNED_BODY
      ]);

      const category = (
        await db.sql.query(`INSERT INTO categories (name) VALUES ($1) RETURNING id`, [CATEGORY])
      ).rows[0].id;
      const product = (
        await db.sql.query(
          `INSERT INTO products (sku, name, price, category_id, stock) VALUES ('XSS-MUG-1', $1, 12.50, $2, 20) RETURNING id`,
          [PRODUCT, category]
        )
      ).rows[0].id;
      const order = (
        await db.sql.query(
          `INSERT INTO orders (customer_id, total, status) VALUES ($1, 25.00, 'paid') RETURNING id`,
          [customer]
        )
      ).rows[0].id;
      await db.sql.query(
        `INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES ($1, $2, 2, 12.50)`,
        [order, product]
      );
    }
  });
});
afterAll(() => app?.close());

describe('stored text renders inert, in Chromium', () => {
  it(
    'the console queue and the ticket screen: subject, tags, names, messages, customer panel, canned responses, who is viewing and typing',
    { timeout: 90_000 },
    async () => {
      const alex = await pageFor(world.agentA.email);
      await alex.goto('/console?view=team');
      await expectLive(alex);
      const row = alex.locator(`[data-testid="queue-row"][data-ticket-id="${ticketId}"]`);
      await within(shows(row, SUBJECT));
      await within(shows(row, FIRST_NAME));
      await within(shows(row, TICKET_TAG));
      await expectInert(alex);

      await alex.goto(`/console/tickets/${ticketId}`);
      const thread = alex.getByTestId('thread');
      await within(shows(thread, CUSTOMER_MESSAGE));
      await within(shows(thread, REPLY));
      await within(shows(thread, AGENT));
      await within(shows(alex, SUBJECT));
      await within(shows(alex.getByRole('group', { name: 'Tags' }), TICKET_TAG));
      const panel = alex.getByTestId('customer-panel');
      await within(shows(panel, `${FIRST_NAME} ${LAST_NAME}`));
      await within(shows(panel, EMAIL));
      await within(shows(panel, CUSTOMER_TAG));
      await within(shows(panel, 'Customer since'));
      expect(await panel.getByRole('link', { name: EMAIL }).getAttribute('href')).toBe(`mailto:${EMAIL}`);

      // The canned response picker: its title in the list, its body (filled in) in the preview and the reply.
      const composer = alex.getByLabel('Reply');
      await composer.click();
      await composer.press('/');
      const picker = alex.getByRole('listbox', { name: 'Canned responses' });
      await within(shows(picker, CANNED_TITLE));
      await within(shows(alex, `Sorry ${FIRST_NAME} <script>`));
      await alex.keyboard.press('Enter');
      await within(() =>
        composer.inputValue().then((v) => v.includes(`Sorry ${FIRST_NAME} <script>${RUN}</script>`))
      );

      // Eve opens the ticket and types: her name reaches Alex's viewers bar and typing line.
      const eve = await pageFor('eve@test.dev');
      await eve.goto(`/console/tickets/${ticketId}`);
      await within(() => eve.getByTestId('thread').isVisible());
      const eveComposer = eve.getByLabel('Reply');
      await eveComposer.click();
      await eveComposer.pressSequentially('typing', { delay: 20 });
      await within(() =>
        alex
          .getByTestId('viewers')
          .getByRole('img', { name: `Also viewing: ${AGENT}` })
          .isVisible()
      );
      await within(shows(alex.getByTestId('typing'), 'Eve is typing'));
      await expectInert(alex);
      await expectInert(eve);
    }
  );

  it(
    'the wallboard and analytics: agent, product, category and customer names',
    { timeout: 90_000 },
    async () => {
      const manager = await pageFor(world.manager.email);
      await manager.setViewportSize({ width: 1920, height: 1080 });
      await manager.goto('/wallboard');
      await within(() => manager.getByTestId('wallboard-agent').first().isVisible());
      await within(shows(manager.getByTestId('wallboard-agent').filter({ hasText: 'Eve' }), AGENT));
      await expectInert(manager);

      await manager.goto('/analytics');
      const products = manager.getByTestId('report-top-products');
      await within(shows(products, PRODUCT));
      await within(shows(manager.getByTestId('report-top-categories'), CATEGORY));
      // Drilling into the product lists its orders, with the customer's name.
      await products.getByRole('button', { name: PRODUCT }).click();
      const drawer = manager.getByRole('dialog');
      await within(shows(drawer, FIRST_NAME));
      await expectInert(manager);
    }
  );
});
