import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPulse } from '../../server/pulse.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createCustomer, createOrder, createWorld } from '../support/fixtures.js';
import { Browser } from '../support/http.js';
import { startTestServer } from '../support/server.js';

// Reviews: a search that forgives (stems, typos), ranked; a rating summary whose histogram sums
// to the count; newest and lowest first, paged; a review naming an order links to it.

let db: TestDatabase;
let server: RunningPulse;
let agent: Browser;
let kettle: number;
let toaster: number;
let orderOfAva: number;
let orderOfBen: number;

const text = (parts: string[]) => parts.join('');
const marked = (parts: string[]) => parts.filter((_, i) => i % 2 === 1);

beforeAll(async () => {
  db = await createTestDatabase();
  const world = await createWorld(db.sql);
  server = await startTestServer(db.url);
  agent = await Browser.signedIn(server.url, world.agentA.email);
  const { rows } = await db.sql.query<{ id: number }>(
    `INSERT INTO products (sku, name, price) VALUES ('KET-9', 'Kettle', 30), ('TOA-9', 'Toaster', 40) RETURNING id`
  );
  [kettle, toaster] = rows.map((r) => r.id);
  const ava = await createCustomer(db.sql, 'ava@example.com', 'Ava');
  const ben = await createCustomer(db.sql, 'ben@example.com', 'Ben');
  const cy = await createCustomer(db.sql, 'cy@example.com', 'Cy');
  const dee = await createCustomer(db.sql, 'dee@example.com', 'Dee');
  orderOfAva = await createOrder(db.sql, { customerId: ava, total: 30, externalId: 'WEB-77123' });
  orderOfBen = await createOrder(db.sql, { customerId: ben, total: 30 });
  const review = (
    customer: number,
    product: number,
    rating: number,
    title: string,
    body: string,
    daysAgo: number
  ) =>
    db.sql.query(
      `INSERT INTO reviews (customer_id, product_id, rating, title, body, created_at) VALUES ($1, $2, $3, $4, $5, now() - $6 * interval '1 day')`,
      [customer, product, rating, title, body, daysAgo]
    );
  await review(
    ava,
    kettle,
    2,
    'Slow delivery',
    `Order WEB-77123 was shipped late, and #${orderOfBen} is not mine.`,
    3
  );
  await review(ben, kettle, 5, 'Lovely kettle', `Boils quickly. Ordered with #${orderOfBen}.`, 1);
  await review(cy, kettle, 4, 'Good', 'Shipping was fast, kettle is quiet <script>alert(1)</script>', 2);
  await review(dee, kettle, 1, 'Leaks', 'It leaks from the lid. Tastes of chocolate.', 5);
  await review(ava, toaster, 3, 'Fine toaster', 'Delivered on time.', 4);
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

describe('GET /api/reviews', () => {
  it('finds by stem: "shipping" finds "shipped", with the matches marked', async () => {
    const { reviews } = await agent.getOk('/api/reviews?q=shipping');
    expect(reviews.map((r: any) => r.title.join(''))).toEqual(
      expect.arrayContaining(['Slow delivery', 'Good'])
    );
    expect(reviews).toHaveLength(2);
    const late = reviews.find((r: any) => text(r.title) === 'Slow delivery');
    expect(marked(late.body)).toEqual(['shipped']);
    // Review text is text: the markup in it comes back as characters, never as marks.
    const good = reviews.find((r: any) => text(r.title) === 'Good');
    expect(text(good.body)).toContain('<script>alert(1)</script>');
  });

  it('forgives a typo and ranks the closer match first', async () => {
    const { reviews } = await agent.getOk('/api/reviews?q=delivry');
    expect(reviews.map((r: any) => text(r.title))).toEqual(
      expect.arrayContaining(['Slow delivery', 'Fine toaster'])
    );
    // Every word must match, each by stem or by spelling: one misspelt, one stemmed.
    const two = await agent.getOk('/api/reviews?q=delivry%20lately');
    expect(two.reviews.map((r: any) => text(r.title))).toEqual(['Slow delivery']);
    // A short word is not looked for inside longer ones ("late" in "chocolate").
    const short = await agent.getOk('/api/reviews?q=late');
    expect(short.reviews.map((r: any) => text(r.title))).toEqual(['Slow delivery']);
    const exact = await agent.getOk('/api/reviews?q=leaks lid');
    expect(text(exact.reviews[0].title)).toBe('Leaks');
  });

  it('summarises a product: the histogram sums to the count, newest and lowest first page by keyset', async () => {
    const page = await agent.getOk(`/api/reviews?productId=${kettle}&sort=newest`);
    expect(page.rating).toEqual({ count: 4, average: '3.00', histogram: [1, 1, 0, 1, 1] });
    expect(page.rating.histogram.reduce((a: number, b: number) => a + b, 0)).toBe(page.rating.count);
    expect(page.reviews.map((r: any) => r.rating)).toEqual([5, 4, 2, 1]);
    const lowest = await agent.getOk(`/api/reviews?productId=${kettle}&sort=lowest`);
    expect(lowest.reviews.map((r: any) => r.rating)).toEqual([1, 2, 4, 5]);
    expect((await agent.get(`/api/reviews?productId=987654`)).status).toBe(404);
    expect((await agent.get(`/api/reviews?cursor=${'%27;DROP'}`)).status).toBe(400);
    expect((await agent.get(`/api/reviews?sort=oldest`)).status).toBe(400);
  });

  it('links a review to the orders of its author it mentions, by number or by #id', async () => {
    const { reviews } = await agent.getOk(`/api/reviews?productId=${kettle}`);
    const byTitle = Object.fromEntries(reviews.map((r: any) => [text(r.title), r.orders]));
    // Ava names her order by its number; the #id she mentions is Ben's, so it is not linked.
    expect(byTitle['Slow delivery']).toEqual([{ id: orderOfAva, externalId: 'WEB-77123' }]);
    expect(byTitle['Lovely kettle']).toEqual([{ id: orderOfBen, externalId: null }]);
    expect(byTitle['Good']).toEqual([]);
  });

  it('pages every review newest and lowest first, without overlap or gaps', async () => {
    await db.sql.query(
      `WITH c AS (INSERT INTO customers (email, first_name) SELECT 'many' || n || '@example.com', 'Many' FROM generate_series(1, 30) n RETURNING id)
       INSERT INTO reviews (customer_id, product_id, rating, title, body, created_at)
       SELECT id, $1, 1 + id % 5, 'Toast', 'Browns evenly', now() - (id % 3) * interval '1 hour' FROM c`,
      [toaster]
    );
    for (const sort of ['newest', 'lowest']) {
      const seen: any[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: any = await agent.getOk(`/api/reviews?sort=${sort}${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...page.reviews);
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(2);
      expect(new Set(seen.map((r) => r.id)).size).toBe(35);
      if (sort === 'lowest') {
        const ratings = seen.map((r) => r.rating);
        expect(ratings).toEqual([...ratings].sort((a, b) => a - b));
      }
    }
    const toast = await agent.getOk(`/api/reviews?productId=${toaster}`);
    expect(toast.rating.count).toBe(31);
    expect(toast.rating.histogram.reduce((a: number, b: number) => a + b, 0)).toBe(31);
  });
});
