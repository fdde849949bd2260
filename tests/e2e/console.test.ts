import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectLive, within } from '../support/browser.js';
import { startBrowserApp, type BrowserApp } from '../support/browser-app.js';
import type { TestDatabase } from '../support/database.js';
import {
  createLoyaltyAccount,
  createOrder,
  createTicket,
  createUser,
  createWorld,
  earnPoints
} from '../support/fixtures.js';

let db: TestDatabase;
let app: BrowserApp;
let world: Awaited<ReturnType<typeof createWorld>>;
let alex: Page;
let bea: Page;

/** Polls a condition on a page; the live path promises a second, the poll allows two. */

beforeAll(async () => {
  app = await startBrowserApp({
    seed: async (db) => {
      world = await createWorld(db.sql);
      await createUser(db.sql, {
        email: 'bea@test.dev',
        role: 'agent',
        teamId: world.teamA,
        name: 'Bea Brooks'
      });
      await db.sql.query(`UPDATE teams SET auto_assign = false`);
    }
  });
  ({ db } = app);
  alex = (await app.signIn(world.agentA.email)).page;
  bea = (await app.signIn('bea@test.dev')).page;
});
afterAll(() => app?.close());

const queueHas = (page: Page, ticketId: number) => () =>
  page
    .locator(`[data-testid="queue-row"][data-ticket-id="${ticketId}"]`)
    .count()
    .then((n) => n > 0);

describe('the live ticket console, two agents side by side', () => {
  it('a ticket inserted by plain SQL appears in both queues without a reload', async () => {
    await alex.goto('/console?view=team');
    await bea.goto('/console?view=team');
    await expectLive(alex);
    await expectLive(bea);
    const id = await createTicket(db.sql, {
      customerId: world.customerId,
      teamId: world.teamA,
      subject: 'Parcel arrived crushed'
    });
    await within(queueHas(alex, id));
    await within(queueHas(bea, id));
    await within(() => bea.getByText('Parcel arrived crushed').isVisible());
  });

  it('Bea sees Alex viewing and typing, then his reply, claim and status change, within a second', async () => {
    const id = await createTicket(db.sql, {
      customerId: world.customerId,
      teamId: world.teamA,
      subject: 'Refund for order'
    });
    await db.sql.query(
      `INSERT INTO ticket_messages (ticket_id, author_type, body) VALUES ($1, 'customer', 'Please refund my order')`,
      [id]
    );
    await bea.goto(`/console/tickets/${id}`);
    await within(() => bea.getByTestId('thread').getByText('Please refund my order').isVisible());
    await alex.goto(`/console/tickets/${id}`);

    await within(() =>
      bea
        .getByTestId('viewers')
        .getByText(/Agent A|AA/)
        .first()
        .isVisible()
    );
    const composer = alex.getByLabel('Reply');
    await composer.click();
    await composer.pressSequentially('We are on it', { delay: 20 });
    await within(() => bea.getByTestId('typing').isVisible());

    await alex.keyboard.press('Control+Enter');
    await within(() => bea.getByTestId('thread').getByText('We are on it').isVisible());

    await alex.getByRole('button', { name: /^Claim/ }).click();
    await within(() => bea.getByTestId('ticket-assignee').getByText('Agent A').isVisible());

    await alex.getByRole('button', { name: /^Resolve/ }).click();
    await within(() =>
      bea
        .getByTestId('ticket-status')
        .getByText(/resolved/i)
        .isVisible()
    );
    expect((await db.sql.query(`SELECT status FROM tickets WHERE id = $1`, [id])).rows[0].status).toBe(
      'resolved'
    );
  });

  it('a queue opened while Alex views a ticket shows him on that row', async () => {
    const id = await createTicket(db.sql, {
      customerId: world.customerId,
      teamId: world.teamA,
      subject: 'Who is looking?'
    });
    await alex.goto(`/console/tickets/${id}`);
    await within(() => alex.getByTestId('thread').isVisible());
    await bea.goto('/console?view=team');
    const row = bea.locator(`[data-testid="queue-row"][data-ticket-id="${id}"]`);
    await within(() => row.getByTestId('row-viewers').isVisible());
  });

  it('a refund from the customer panel shows on the other agent’s panel, points reversed, without a reload', async () => {
    const customer = (
      await db.sql.query(
        `INSERT INTO customers (email, first_name, last_name) VALUES ('rita@example.com', 'Rita', 'Refund') RETURNING id`
      )
    ).rows[0].id;
    const account = await createLoyaltyAccount(db.sql, customer);
    const order = await createOrder(db.sql, {
      customerId: customer,
      total: 75,
      status: 'delivered',
      externalId: 'SHOP-E2E-1'
    });
    await earnPoints(db.sql, {
      accountId: account,
      points: 75,
      reason: 'order',
      orderId: order,
      key: 'e2e-earn'
    });
    const id = await createTicket(db.sql, {
      customerId: customer,
      teamId: world.teamA,
      subject: 'Broken on arrival'
    });
    await bea.goto(`/console/tickets/${id}`);
    await alex.goto(`/console/tickets/${id}`);
    const beaPanel = bea.getByTestId('customer-panel');
    await within(() => beaPanel.getByTestId('panel-loyalty').getByText('75').isVisible());

    const alexPanel = alex.getByTestId('customer-panel');
    await within(
      () =>
        alexPanel
          .getByRole('button', { name: /^Refund/ })
          .first()
          .isVisible(),
      5000
    );
    await alexPanel
      .getByRole('button', { name: /^Refund/ })
      .first()
      .click();
    await alex.getByRole('button', { name: 'Refund order' }).click();

    await within(() =>
      beaPanel
        .getByText(/refunded/i)
        .first()
        .isVisible()
    );
    await within(() => beaPanel.getByTestId('panel-loyalty').getByText(/^0$/).isVisible());
    await within(() =>
      bea
        .getByTestId('thread')
        .getByText(/refunded order/)
        .isVisible()
    );
    expect(
      (await db.sql.query(`SELECT balance FROM loyalty_accounts WHERE id = $1`, [account])).rows[0].balance
    ).toBe(0);
  });

  it('an agent grants goodwill points from a ticket: up to the limit, on the ticket and the other agent’s panel', async () => {
    const customer = (
      await db.sql.query(
        `INSERT INTO customers (email, first_name, last_name) VALUES ('gwen@example.com', 'Gwen', 'Goodwill') RETURNING id`
      )
    ).rows[0].id;
    await createLoyaltyAccount(db.sql, customer);
    const id = await createTicket(db.sql, {
      customerId: customer,
      teamId: world.teamA,
      subject: 'Late again'
    });
    await bea.goto(`/console/tickets/${id}`);
    await alex.goto(`/console/tickets/${id}`);
    const alexPanel = alex.getByTestId('customer-panel');
    const beaPanel = bea.getByTestId('customer-panel');
    // The program's limit (500 a ticket) is shown before anything is granted.
    await within(
      async () => (await alexPanel.getByTestId('panel-goodwill').innerText()).includes('0 of 500'),
      5000
    );

    await alexPanel.getByRole('button', { name: 'Grant goodwill' }).click();
    const dialog = alex.getByRole('dialog', { name: 'Grant goodwill points' });
    await dialog.getByLabel('Points').fill('600');
    await dialog.getByLabel('Reason').fill('Third late parcel');
    await dialog.getByRole('button', { name: 'Grant points' }).click();
    await within(async () => (await dialog.getByText('At most 500').count()) === 1);
    await dialog.getByLabel('Points').fill('150');
    await dialog.getByRole('button', { name: 'Grant points' }).dblclick();
    await within(async () => !(await dialog.isVisible()));

    await within(async () => (await beaPanel.getByTestId('panel-available').innerText()).trim() === '150');
    await within(async () =>
      (await beaPanel.getByTestId('panel-goodwill').innerText()).includes('150 of 500')
    );
    await within(() =>
      bea
        .getByTestId('thread')
        .getByText(/granted 150 goodwill points: Third late parcel/)
        .isVisible()
    );
    // A double click granted once.
    const granted = await db.sql.query(`SELECT points FROM loyalty_ledger WHERE ticket_id = $1`, [id]);
    expect(granted.rows.map((r) => r.points)).toEqual([150]);

    // The customer's timeline says it was goodwill, with a link to the ticket it came from.
    await bea.goto(`/customers/${customer}`);
    const item = bea
      .locator('[data-testid="timeline"] [data-kind="loyalty"]')
      .filter({ hasText: 'Goodwill 150 points' });
    await within(async () => (await item.count()) === 1);
    expect(await item.getByRole('link', { name: `ticket #${id}` }).getAttribute('href')).toBe(
      `/console/tickets/${id}`
    );
  });
});
