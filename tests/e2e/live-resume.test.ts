import type { Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectLive, within } from '../support/browser.js';
import { startBrowserApp, type BrowserApp } from '../support/browser-app.js';
import {
  createCustomer,
  createLoyaltyAccount,
  createOrder,
  createTicket,
  createWorld,
  earnPoints
} from '../support/fixtures.js';
import type { TestDatabase } from '../support/database.js';

// What a user sees of the resume contract: a screen that missed changes (a burst it could not be
// sent, a connection that dropped) ends up showing the truth without anyone reloading the page.

let db: TestDatabase;
let app: BrowserApp;
let world: Awaited<ReturnType<typeof createWorld>>;
let alex: Page;

const queueHas = (page: Page, ticketId: number) => () =>
  page
    .locator(`[data-testid="queue-row"][data-ticket-id="${ticketId}"]`)
    .count()
    .then((n) => n > 0);

beforeAll(async () => {
  app = await startBrowserApp({
    seed: async (db) => {
      world = await createWorld(db.sql);
      await db.sql.query(`UPDATE teams SET auto_assign = false`);
    },
    config: { LIVE_BURST_LIMIT: '20' }
  });
  ({ db } = app);
  alex = (await app.signIn(world.agentA.email)).page;
});
afterAll(() => app?.close());

describe('a screen that missed changes', () => {
  it(
    'reloads after a burst, retrying until the reload succeeds, and shows every ticket of it',
    { timeout: 30_000 },
    async () => {
      await alex.goto('/console?view=team');
      await expectLive(alex);
      // The next two reloads of the queue fail on the network; the third gets through.
      let failures = 0;
      const flaky = (route: Route) => (failures < 2 ? (failures++, route.abort('failed')) : route.continue());
      await alex.route(/\/api\/tickets\?/, flaky);
      const { rows } = await db.sql.query<{ id: number }>(
        `INSERT INTO tickets (customer_id, team_id, subject) SELECT $1, $2, 'Burst ' || g FROM generate_series(1, 30) g RETURNING id`,
        [world.customerId, world.teamA]
      );
      const last = rows[rows.length - 1].id;
      await within(queueHas(alex, last));
      expect(failures).toBe(2);
      await alex.unroute(/\/api\/tickets\?/, flaky);
    }
  );

  it(
    'a customer panel that was offline while the order was refunded shows it refunded, without a reload',
    { timeout: 30_000 },
    async () => {
      const customerId = await createCustomer(db.sql, `offline-${Date.now()}@example.com`, 'Olive');
      const account = await createLoyaltyAccount(db.sql, customerId);
      const orderId = await createOrder(db.sql, { customerId, total: 80, status: 'paid' });
      await earnPoints(db.sql, {
        accountId: account,
        points: 80,
        reason: 'Order',
        key: `earn-${orderId}`,
        orderId
      });
      const ticketId = await createTicket(db.sql, {
        customerId,
        teamId: world.teamA,
        subject: 'Refund please'
      });
      await alex.goto(`/console/tickets/${ticketId}`);
      await expectLive(alex);
      const order = alex.locator(`[data-testid="panel-order"][data-order-id="${orderId}"]`);
      await within(() => order.getAttribute('data-status').then((s) => s === 'paid'));

      // The connection drops (the server is unreachable for the page), the order is refunded meanwhile.
      const context = alex.context();
      await context.setOffline(true);
      await within(
        () =>
          alex
            .locator('[data-state="live"]:visible')
            .count()
            .then((n) => n === 0),
        15_000
      );
      await db.sql.query(`UPDATE orders SET status = 'refunded' WHERE id = $1`, [orderId]);
      await context.setOffline(false);
      await expectLive(alex, 15_000);
      await within(() => order.getAttribute('data-status').then((s) => s === 'refunded'));
    }
  );
});
