import axe from 'axe-core';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible, expectLive, within } from '../support/browser.js';
import { startBrowserApp, type BrowserApp } from '../support/browser-app.js';
import type { TestDatabase } from '../support/database.js';
import {
  createCustomer,
  createLoyaltyAccount,
  createTicket,
  createWorld,
  earnPoints
} from '../support/fixtures.js';

// The customer 360 in a real browser: the timeline grows as the database commits, inline edits
// round-trip (Enter saves, Esc cancels, errors inline), and the screen passes axe.

let db: TestDatabase;
let app: BrowserApp;
let world: Awaited<ReturnType<typeof createWorld>>;
let page: Page;
let customerId: number;
let orderId: number;

/** Polls a condition on the page; the live path promises a second, the poll allows a few. */

beforeAll(async () => {
  app = await startBrowserApp({
    seed: async (db) => {
      world = await createWorld(db.sql);
      customerId = await createCustomer(db.sql, 'livia@example.com', 'Livia');
      orderId = (
        await db.sql.query<{ id: number }>(
          `INSERT INTO orders (customer_id, total, status, order_date, external_id)
       VALUES ($1, 2150.00, 'delivered', now() - interval '3 days', 'SHOP-9001') RETURNING id`,
          [customerId]
        )
      ).rows[0].id;
      const account = await createLoyaltyAccount(db.sql, customerId);
      await earnPoints(db.sql, {
        accountId: account,
        points: 2150,
        reason: 'Order SHOP-9001',
        key: 'e2e-earn',
        orderId
      });
      await createTicket(db.sql, { customerId, teamId: world.teamA, subject: 'Where is my parcel?' });
      await db.sql.query(
        `INSERT INTO custom_attribute_definitions (entity, key, label, type, options) VALUES ('customer', 'plan', 'Plan', 'choice', '{basic,plus}')`
      );
    }
  });
  ({ db } = app);
  page = (await app.signIn(world.manager.email)).page;
});
afterAll(() => app?.close());

const timelineHas = (selector: string, text?: string) => async () => {
  const items = page.locator(`[data-testid="timeline"] ${selector}`);
  if (text) return (await items.filter({ hasText: text }).count()) > 0;
  return (await items.count()) > 0;
};

describe('the customer 360', () => {
  it('grows its timeline live when an order is refunded by SQL: the order, the points reversed, the tier drop', async () => {
    await page.goto(`/customers/${customerId}`);
    await page.getByTestId('timeline').waitFor();
    await expectLive(page);
    expect(await page.getByTestId('points').innerText()).toContain('2,150');

    const client = await db.sql.connect();
    try {
      await client.query('BEGIN');
      await client.query(`UPDATE orders SET status = 'refunded' WHERE id = $1`, [orderId]);
      await client.query(`SELECT loyalty_reverse_order($1)`, [orderId]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    await within(timelineHas('[data-kind="order_status"]', 'SHOP-9001 refunded'));
    await within(timelineHas('[data-kind="loyalty"]', 'Reversed 2,150 points'));
    await within(timelineHas('[data-kind="tier"]', 'silver → bronze'));
    await within(async () => (await page.getByTestId('points').innerText()).trim() === '0');
    // The numbers follow: the refunded order no longer counts as a sale.
    await within(async () => (await page.getByTestId('ltv').innerText()).includes('0.00'));
  });

  it('a manager adjusts points with a reason, and the loyalty card follows live', async () => {
    const available = page.getByTestId('loyalty-card').getByTestId('loyalty-available');
    await within(async () => (await available.innerText()).trim() === '0');

    const adjust = page.getByRole('dialog', { name: 'Adjust points' });
    // The dialog shell: named by its title, focus inside it, Escape closes it.
    await page.getByRole('button', { name: 'Adjust' }).click();
    await within(
      async () => await adjust.getByLabel('Points').evaluate((el) => el === document.activeElement)
    );
    await page.keyboard.press('Escape');
    await within(async () => !(await adjust.isVisible()));

    await page.getByRole('button', { name: 'Adjust' }).click();
    await adjust.getByLabel('Points').fill('1200');
    await adjust.getByRole('button', { name: 'Adjust' }).click();
    // The reason is required: nothing is sent without it.
    await within(async () => (await adjust.getByText('Say why').count()) === 1);
    await adjust.getByLabel('Reason').fill('Parcel lost twice');
    await adjust.getByRole('button', { name: 'Adjust' }).click();
    await within(async () => !(await adjust.isVisible()));
    await within(async () => (await available.innerText()).trim() === '1,200');
    await within(timelineHas('[data-kind="loyalty"]', 'Parcel lost twice'));
  });

  it('redeems a reward: the code shows, the balance drops live, a double click redeems once', async () => {
    const available = page.getByTestId('loyalty-card').getByTestId('loyalty-available');
    await page.getByRole('button', { name: 'Redeem' }).click();
    const redeem = page.getByRole('dialog', { name: 'Redeem a reward' });
    await redeem.getByTestId('redeem-dialog').getByRole('radio').first().waitFor();
    // 1,200 points: the $10 voucher can be had, the $25 one cannot.
    expect(await redeem.getByRole('radio', { name: /\$25 voucher/ }).isDisabled()).toBe(true);
    await redeem.getByRole('radio', { name: /\$10 voucher/ }).check();
    await expectAccessible(page, 'dialog[open]');
    await redeem.getByRole('button', { name: 'Redeem' }).dblclick();
    const shown = page.getByRole('dialog', { name: 'Reward redeemed' });
    await shown.getByTestId('reward-code').waitFor();
    const code = (await shown.getByTestId('reward-code').innerText()).trim();
    expect(code).toMatch(/^PTS-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    await within(async () => (await available.innerText()).trim() === '200');
    const redeemed = await db.sql.query(
      `SELECT c.code FROM loyalty_reward_codes c JOIN loyalty_accounts a ON a.id = c.account_id WHERE a.customer_id = $1`,
      [customerId]
    );
    expect(redeemed.rows.map((r) => r.code)).toEqual([code]);
    await shown.getByRole('button', { name: 'Done' }).click();
  });

  it('a reward chosen while the points were there, spent elsewhere before the click: the server’s 409 shows', async () => {
    const available = page.getByTestId('loyalty-card').getByTestId('loyalty-available');
    const redeem = page.getByRole('dialog', { name: 'Redeem a reward' });
    // A reward chosen while the points were there, spent elsewhere before the click: the server's 409 shows.
    await page.getByRole('button', { name: 'Redeem' }).click();
    await db.sql.query(
      `INSERT INTO loyalty_ledger (account_id, kind, points, reason, idempotency_key)
       SELECT id, 'adjust', 500, 'Top-up', 'e2e-topup' FROM loyalty_accounts WHERE customer_id = $1`,
      [customerId]
    );
    await within(async () => (await available.innerText()).trim() === '700');
    await redeem.getByRole('radio', { name: /\$5 voucher/ }).check();
    await db.sql.query(
      `INSERT INTO loyalty_ledger (account_id, kind, points, reason, idempotency_key)
       SELECT id, 'adjust', -500, 'Taken back', 'e2e-takeback' FROM loyalty_accounts WHERE customer_id = $1`,
      [customerId]
    );
    await redeem.getByRole('button', { name: 'Redeem' }).click();
    await within(async () =>
      (await redeem.getByRole('alert').innerText()).includes('Not enough available points')
    );
    await redeem.getByRole('button', { name: 'Cancel' }).click();
    expect((await available.innerText()).trim()).toBe('200');
  });

  it('edits inline: Enter saves, Esc cancels, a bad value shows its error in place', async () => {
    const field = page.getByTestId('field-firstName');
    await field.getByRole('button', { name: /First name: Livia/ }).click();
    const input = field.getByRole('textbox', { name: 'First name' });
    await input.fill('Livvy');
    await input.press('Enter');
    await within(async () =>
      (await page.getByRole('heading', { level: 1 }).innerText()).includes('Livvy Tester')
    );
    const saved = await db.sql.query(`SELECT first_name FROM customers WHERE id = $1`, [customerId]);
    expect(saved.rows[0].first_name).toBe('Livvy');
    await within(timelineHas('[data-kind="profile"]', 'First name changed'));

    await field.getByRole('button', { name: /First name: Livvy/ }).click();
    await field.getByRole('textbox', { name: 'First name' }).fill('Nobody');
    await field.getByRole('textbox', { name: 'First name' }).press('Escape');
    await within(async () => (await field.getByRole('button', { name: /First name: Livvy/ }).count()) === 1);

    const email = page.getByTestId('field-email');
    await email.getByRole('button', { name: /Email:/ }).click();
    await email.getByRole('textbox', { name: 'Email' }).fill('not an email');
    await email.getByRole('textbox', { name: 'Email' }).press('Enter');
    await within(async () => (await email.getByRole('alert').innerText()).includes('email address'));
    expect(await email.getByRole('textbox', { name: 'Email' }).getAttribute('aria-invalid')).toBe('true');
    await email.getByRole('textbox', { name: 'Email' }).press('Escape');

    const plan = page.getByTestId('attr-plan');
    await plan.getByRole('button', { name: /Plan:/ }).click();
    await plan.getByRole('combobox', { name: 'Plan' }).selectOption('plus');
    await plan.getByRole('combobox', { name: 'Plan' }).press('Enter');
    await within(async () => (await plan.getByRole('button', { name: /Plan: plus/ }).count()) === 1);
    const attrs = await db.sql.query(`SELECT attributes FROM customers WHERE id = $1`, [customerId]);
    expect(attrs.rows[0].attributes).toEqual({ plan: 'plus' });
  });

  it('edits the birth date inline: a future date is refused in place, a real one is saved, audited and live for another viewer', async () => {
    const other = await app.signIn(world.agentA.email);
    try {
      await other.page.goto(`/customers/${customerId}`);
      await expectLive(other.page);
      const theirs = other.page.getByTestId('field-birthDate');
      expect(await theirs.getByRole('button', { name: 'Birth date: not set. Edit' }).count()).toBe(1);

      const field = page.getByTestId('field-birthDate');
      await field.getByRole('button', { name: /Birth date: not set/ }).click();
      const input = field.getByRole('textbox', { name: 'Birth date' });
      const nextYear = new Date().getUTCFullYear() + 1;
      await input.fill(`${nextYear}-03-01`);
      await input.press('Enter');
      await within(async () =>
        (await field.getByRole('alert').innerText()).includes('cannot be in the future')
      );
      expect(await input.getAttribute('aria-invalid')).toBe('true');
      expect(
        (await db.sql.query(`SELECT birth_date FROM customers WHERE id = $1`, [customerId])).rows[0]
          .birth_date
      ).toBeNull();

      await input.fill('1990-06-15');
      await input.press('Enter');
      await within(
        async () => (await field.getByRole('button', { name: /Birth date: .*1990/ }).count()) === 1
      );
      const saved = await db.sql.query(
        `SELECT to_char(birth_date, 'YYYY-MM-DD') AS d FROM customers WHERE id = $1`,
        [customerId]
      );
      expect(saved.rows[0].d).toBe('1990-06-15');
      const audit = await db.sql.query(
        `SELECT actor_user_id, details FROM audit_log WHERE action = 'customer.updated' AND target_id = $1 ORDER BY id DESC LIMIT 1`,
        [String(customerId)]
      );
      expect(audit.rows[0].actor_user_id).toBe(world.manager.id);
      expect(audit.rows[0].details.changes.birthDate).toEqual({ old: null, new: '1990-06-15' });
      await within(timelineHas('[data-kind="profile"]', 'Birth date changed'));
      expect(
        await page
          .locator('[data-testid="timeline"] [data-kind="profile"]', { hasText: 'Birth date' })
          .innerText()
      ).toContain('1990-06-15');

      // The other viewer's profile follows without a reload.
      await within(
        async () => (await theirs.getByRole('button', { name: /Birth date: .*1990/ }).count()) === 1
      );
    } finally {
      await other.context.close();
    }
  });

  it('shows bonus entries by their name on the timeline and the loyalty history, live and after a reload', async () => {
    const account = (
      await db.sql.query<{ id: number }>(`SELECT id FROM loyalty_accounts WHERE customer_id = $1`, [
        customerId
      ])
    ).rows[0].id;
    for (const [bonus, points, reason] of [
      ['sign_up', 50, 'Sign-up bonus'],
      ['birthday', 25, 'Birthday bonus 2026'],
      ['first_review', 10, 'First review bonus']
    ] as const)
      await db.sql.query(
        `INSERT INTO loyalty_ledger (account_id, kind, points, reason, idempotency_key, bonus)
         VALUES ($1, 'earn', $2, $3, $4, $5)`,
        [account, points, reason, `e2e-bonus-${bonus}`, bonus]
      );
    const titles = [
      'Sign-up bonus of 50 points',
      'Birthday bonus of 25 points',
      'First review bonus of 10 points'
    ];
    for (const title of titles) await within(timelineHas('[data-kind="loyalty"]', title));
    // The birthday's reason names its year; the others would only repeat the title.
    expect(
      await page
        .locator('[data-testid="timeline"] [data-kind="loyalty"]', { hasText: 'Birthday bonus of' })
        .innerText()
    ).toContain('Birthday bonus 2026');

    await page.getByRole('tab', { name: 'Loyalty' }).click();
    const history = page.getByRole('tabpanel');
    await within(async () => (await history.innerText()).includes('First review bonus'));
    const text = await history.innerText();
    expect(text).toMatch(/· Birthday bonus/);
    expect(text).toMatch(/· Sign-up bonus/);
    expect(text).not.toMatch(/· earn\b/);

    await page.reload();
    await page.getByTestId('timeline').waitFor();
    for (const title of titles) await within(timelineHas('[data-kind="loyalty"]', title));
    await page.getByRole('tab', { name: 'Loyalty' }).click();
    await within(async () => (await page.getByRole('tabpanel').innerText()).includes('· Sign-up bonus'));
    expect(await page.getByRole('tabpanel').innerText()).not.toMatch(/· earn\b/);
  });

  it('has no serious or critical accessibility violations, at 1440 and at 390 px', async () => {
    for (const width of [1440, 390]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
      await page.getByTestId('timeline').waitFor();
      await page.addScriptTag({ content: axe.source });
      const violations = await page.evaluate(async () => {
        const result = await (window as unknown as { axe: typeof axe }).axe.run(document, {
          resultTypes: ['violations']
        });
        return result.violations
          .filter((v) => v.impact === 'serious' || v.impact === 'critical')
          .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      });
      expect(violations, `at ${width} px`).toEqual([]);
    }
  });
});
