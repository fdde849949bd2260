import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPulse } from '../../server/pulse.js';
import { expectAccessible, expectLive, expectNoSidewaysScroll } from '../support/browser.js';
import { startBrowserApp, type BrowserApp } from '../support/browser-app.js';
import type { TestDatabase } from '../support/database.js';
import { createCustomer, createWorld } from '../support/fixtures.js';
import { Browser as Http } from '../support/http.js';

// A segment in a real browser: the builder's draft is counted as it is edited, the count follows
// the database live (a tag written by plain SQL moves a customer in), and the screens pass axe at
// 1440 and 390 px.

let db: TestDatabase;
let app: BrowserApp;
let server: RunningPulse;
let page: Page;
let segmentId: number;
let newcomer: number;
let world: Awaited<ReturnType<typeof createWorld>>;

const countShown = () => page.getByTestId('segment-count').innerText();

beforeAll(async () => {
  app = await startBrowserApp({
    seed: async (db) => {
      world = await createWorld(db.sql);
      for (const [email, name] of [
        ['vera@example.com', 'Vera'],
        ['viktor@example.com', 'Viktor']
      ]) {
        const id = await createCustomer(db.sql, email, name);
        await db.sql.query(`UPDATE customers SET tags = ARRAY['vip'] WHERE id = $1`, [id]);
      }
      newcomer = await createCustomer(db.sql, 'nadia@example.com', 'Nadia');
    }
  });
  ({ db, server } = app);
  const manager = await Http.signedIn(server.url, world.manager.email);
  const created = await manager.post('/api/segments', {
    name: 'VIP tagged',
    description: 'Customers tagged vip',
    rule: { op: 'and', rules: [{ field: 'tags', operator: 'any', value: ['vip'] }] }
  });
  expect(created.status).toBe(201);
  segmentId = created.body.segment.id;
  page = (await app.signIn(world.manager.email)).page;
});
afterAll(() => app?.close());

describe('a segment', () => {
  it('counts the draft as the rule is edited, and its count follows a tag written by SQL', async () => {
    await page.goto(`/segments/${segmentId}`);
    await expectLive(page);
    await expect.poll(countShown).toBe('2');
    expect(await page.getByTestId('segment-preview').innerText()).toContain('Vera');

    // A second condition (the builder starts a new one as "lifetime spend at least 100"): nobody
    // here has bought anything, so the draft counts none; removing it counts two again.
    await page.getByRole('button', { name: 'Add condition' }).click();
    await expect.poll(countShown).toBe('0');
    await page.getByRole('button', { name: 'Remove this condition' }).nth(1).click();
    await expect.poll(countShown).toBe('2');

    await db.sql.query(`UPDATE customers SET tags = ARRAY['vip', 'press'] WHERE id = $1`, [newcomer]);
    await expect.poll(countShown).toBe('3');
    await expect.poll(() => page.getByTestId('segment-preview').innerText()).toContain('Nadia');
    await expectAccessible(page);
  });

  it('picks a product by its name (no id typed), and the customers table’s chip names the segment', async () => {
    const vera = (await db.sql.query(`SELECT id FROM customers WHERE email = 'vera@example.com'`)).rows[0].id;
    const lamp = (
      await db.sql.query(
        `INSERT INTO products (sku, name, price, stock) VALUES ('LAMP-01', 'Brass desk lamp', 80, 10) RETURNING id`
      )
    ).rows[0].id;
    await db.sql.query(`INSERT INTO products (sku, name, price) VALUES ('RUG-01', 'Wool rug', 120)`);
    const order = (
      await db.sql.query(
        `INSERT INTO orders (customer_id, total, status) VALUES ($1, 80, 'delivered') RETURNING id`,
        [vera]
      )
    ).rows[0].id;
    await db.sql.query(
      `INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES ($1, $2, 1, 80)`,
      [order, lamp]
    );
    await page.goto(`/segments/${segmentId}`);
    await expect.poll(countShown).toBe('3');

    await page.getByRole('button', { name: 'Add condition' }).click();
    await page.getByLabel('Field').nth(1).selectOption('productsBought');
    const picker = page.getByRole('combobox', { name: 'Product values' });
    await picker.fill('brass');
    await page.getByRole('option', { name: /Brass desk lamp/ }).click();
    await expect
      .poll(() => page.getByRole('list', { name: 'Chosen Product values' }).innerText())
      .toContain('Brass desk lamp');
    // Tagged vip and bought the lamp: Vera only.
    await expect.poll(countShown).toBe('1');
    await expect.poll(() => page.getByTestId('segment-preview').innerText()).toContain('Vera');
    await expectAccessible(page);

    await page.goto(
      `/customers?filter=${encodeURIComponent(JSON.stringify({ op: 'and', rules: [{ field: 'segment', operator: 'is_any_of', value: [String(segmentId)] }] }))}`
    );
    await expect.poll(() => page.getByTestId('filter-chips').innerText()).toContain('VIP tagged');
    expect(await page.getByTestId('filter-chips').innerText()).not.toContain(String(segmentId));
  });

  it('shows an agent (who may not edit) a saved rule’s products and tiers by name', async () => {
    const lamp = (await db.sql.query(`SELECT id FROM products WHERE sku = 'LAMP-01'`)).rows[0].id;
    const manager = await Http.signedIn(server.url, world.manager.email);
    const saved = await manager.post('/api/segments', {
      name: 'Gold lamp buyers',
      description: '',
      rule: {
        op: 'and',
        rules: [
          { field: 'productsBought', operator: 'any', value: [lamp] },
          { field: 'tier', operator: 'is_any_of', value: ['gold', 'platinum'] }
        ]
      }
    });
    expect(saved.status).toBe(201);
    const { context, page: agent } = await app.signIn(world.agentA.email);
    try {
      await agent.goto(`/segments/${saved.body.segment.id}`);
      const chosen = agent.getByRole('list', { name: 'Chosen Product values' });
      await expect.poll(() => chosen.innerText()).toContain('Brass desk lamp');
      expect(await agent.getByRole('list', { name: 'Chosen Tier values' }).innerText()).toContain('Platinum');
      // Read-only: no picker to type in, nothing to remove.
      expect(await agent.getByRole('combobox', { name: 'Product values' }).count()).toBe(0);
      expect(await agent.getByRole('button', { name: /^Remove/ }).count()).toBe(0);
      await expectAccessible(agent);
    } finally {
      await context.close();
    }
  });

  it('names a saved rule’s product that is not among the first 100 by name, before any search', async () => {
    // 120 products whose names sort first: the picker's first page (100 by name) does not hold the planter.
    await db.sql.query(
      `INSERT INTO products (sku, name, price) SELECT 'SHELF-' || g, 'Aaa shelf ' || lpad(g::text, 3, '0'), 10 FROM generate_series(1, 120) g`
    );
    const planter = (
      await db.sql.query(
        `INSERT INTO products (sku, name, price) VALUES ('ZINC-01', 'Zinc planter', 30) RETURNING id`
      )
    ).rows[0].id;
    const manager = await Http.signedIn(server.url, world.manager.email);
    const saved = await manager.post('/api/segments', {
      name: 'Planter buyers',
      description: '',
      rule: { op: 'and', rules: [{ field: 'productsBought', operator: 'any', value: [planter] }] }
    });
    expect(saved.status).toBe(201);
    await page.goto(`/segments/${saved.body.segment.id}`);
    const chosen = page.getByRole('list', { name: 'Chosen Product values' });
    await expect.poll(() => chosen.innerText()).toContain('Zinc planter');
    expect(await chosen.innerText()).not.toMatch(new RegExp(`^\\s*${planter}\\s*$`, 'm'));
    // Nothing was typed: the picker is empty and closed.
    expect(await page.getByRole('combobox', { name: 'Product values' }).inputValue()).toBe('');
    expect(await page.getByRole('button', { name: 'Remove Zinc planter · ZINC-01' }).count()).toBe(1);
  });

  it('lists segments with their counts, and both screens fit a 390 px phone', async () => {
    await page.goto('/segments');
    await expect.poll(() => page.getByText('VIP tagged').count()).toBeGreaterThan(0);
    await expectAccessible(page);
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await expectNoSidewaysScroll(page);
      await page.goto(`/segments/${segmentId}`);
      await expect.poll(countShown).toBe('3');
      await expectNoSidewaysScroll(page);
      await expectAccessible(page);
    } finally {
      await page.setViewportSize({ width: 1440, height: 900 });
    }
  });
});
