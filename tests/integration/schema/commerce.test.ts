import { beforeAll, describe, it, expect } from 'vitest';
import { createCustomer } from '../../support/fixtures.js';
import {
  db,
  world,
  unique,
  expectRejected,
  one,
  insertCustomer,
  insertProduct,
  insertOrder,
  useSchemaDatabase
} from './schema-support.js';

useSchemaDatabase();

describe('customers', () => {
  it('refuses a second customer whose email differs only in case', async () => {
    await expectRejected(
      'customers',
      insertCustomer('last_name'),
      ['CASEY@Example.COM', 'Twin'],
      '23505',
      'customers_email_key'
    );
  });

  it('refuses an email that is not an address', async () => {
    for (const email of ['casey', 'casey at example.com', 'casey@', 'a b@example.com']) {
      await expectRejected(
        'customers',
        insertCustomer('last_name'),
        [email, 'Bad'],
        '23514',
        'customers_email_check'
      );
    }
  });

  it('refuses a phone number with letters or the wrong length', async () => {
    for (const phone of ['call me', '12345', '+1 555 0100 ext 7', '1'.repeat(25)]) {
      await expectRejected(
        'customers',
        insertCustomer('phone'),
        [unique('phone') + '@example.com', phone],
        '23514',
        'customers_phone_check'
      );
    }
    await expect(
      db.sql.query(insertCustomer('phone'), ['phone.ok@example.com', '+1 (555) 010-0199'])
    ).resolves.toBeTruthy();
  });

  it('refuses marketing consent without the moment it was given', async () => {
    await expectRejected(
      'customers',
      insertCustomer('marketing_consent'),
      ['consent@example.com', true],
      '23514',
      'customers_consent_has_time'
    );
    const id = await createCustomer(db.sql, 'consent.later@example.com');
    await expectRejected(
      'customers',
      `UPDATE customers SET marketing_consent = true WHERE id = $1`,
      [id],
      '23514',
      'customers_consent_has_time'
    );
    await db.sql.query(
      `UPDATE customers SET marketing_consent = true, marketing_consent_at = now() WHERE id = $1`,
      [id]
    );
    expect(await one(`SELECT marketing_consent FROM customers WHERE id = $1`, [id])).toEqual({
      marketing_consent: true
    });
  });

  it('accepts only known preferred channels', async () => {
    await expectRejected(
      'customers',
      insertCustomer('preferred_channels'),
      ['fax@example.com', ['email', 'fax']],
      '23514',
      'customers_preferred_channels_check'
    );
    await expectRejected(
      'customers',
      insertCustomer('preferred_channels'),
      ['pigeon@example.com', ['pigeon']],
      '23514',
      'customers_preferred_channels_check'
    );
    await expect(
      db.sql.query(insertCustomer('preferred_channels'), ['channels@example.com', ['sms', 'push']])
    ).resolves.toBeTruthy();
  });

  it('accepts only language tags like en or pt-BR', async () => {
    for (const language of ['english', 'EN', 'en-us', 'en_US', '']) {
      await expectRejected(
        'customers',
        insertCustomer('language'),
        [unique('lang') + '@example.com', language],
        '23514',
        'customers_language_check'
      );
    }
    await expect(
      db.sql.query(insertCustomer('language'), ['lang.ok@example.com', 'pt-BR'])
    ).resolves.toBeTruthy();
  });

  it('keeps attributes a JSON object and addresses a JSON array', async () => {
    for (const attributes of ['[]', '"vip"', '42', 'null']) {
      await expectRejected(
        'customers',
        insertCustomer('attributes'),
        [unique('attr') + '@example.com', attributes],
        '23514',
        'customers_attributes_check'
      );
    }
    for (const addresses of ['{}', '"1 Main St"']) {
      await expectRejected(
        'customers',
        insertCustomer('addresses'),
        [unique('addr') + '@example.com', addresses],
        '23514',
        'customers_addresses_check'
      );
    }
    await expect(
      db.sql.query(insertCustomer('addresses'), ['addr.ok@example.com', '[{"line1": "1 Main St"}]'])
    ).resolves.toBeTruthy();
  });

  it('refuses a customer without a first name', async () => {
    await expectRejected(
      'customers',
      `INSERT INTO customers (email, first_name) VALUES ($1, NULL)`,
      ['nameless@example.com'],
      '23502'
    );
    await expectRejected(
      'customers',
      `INSERT INTO customers (email, first_name) VALUES ($1, ' ')`,
      ['blank@example.com'],
      '23514',
      'customers_first_name_check'
    );
  });
});

describe('categories', () => {
  it('refuses a category that is its own parent', async () => {
    const id = (await one(`INSERT INTO categories (name) VALUES ('Shoes') RETURNING id`)).id;
    await expectRejected(
      'categories',
      `UPDATE categories SET parent_id = id WHERE id = $1`,
      [id],
      '23514',
      'categories_not_own_parent'
    );
    await expectRejected(
      'categories',
      `INSERT INTO categories (name) VALUES ('SHOES')`,
      [],
      '23505',
      'categories_name_key'
    );
  });
});

describe('products', () => {
  const insert = `INSERT INTO products (sku, name, price, stock) VALUES ($1, 'Widget', $2, $3)`;

  it('accepts only upper-case SKUs of 3 to 32 characters', async () => {
    for (const sku of ['ab-123', 'AB', '-AB123', 'AB 123', 'A'.repeat(33)]) {
      await expectRejected('products', insert, [sku, 10, 1], '23514', 'products_sku_check');
    }
    await expect(db.sql.query(insert, ['SKU-OK-1', 10, 1])).resolves.toBeTruthy();
  });

  it('refuses a duplicate SKU', async () => {
    await insertProduct({ sku: 'DUP-1' });
    await expectRejected('products', insert, ['DUP-1', 10, 1], '23505', 'products_sku_key');
  });

  it('refuses a negative price and allows a free product', async () => {
    await expectRejected('products', insert, ['NEG-PRICE', -0.01, 1], '23514', 'products_price_check');
    await expect(db.sql.query(insert, ['FREE-1', 0, 1])).resolves.toBeTruthy();
  });

  it('never lets stock go below zero, and moves it only through stock movements', async () => {
    await expectRejected('products', insert, ['NEG-STOCK', 10, -1], '23514', 'products_stock_check');
    const id = await insertProduct({ stock: 3 });
    await expectRejected(
      ['products', 'stock_movements'],
      `INSERT INTO stock_movements (product_id, kind, quantity, reason) VALUES ($1, 'adjust', -4, 'Shrinkage')`,
      [id],
      '23514',
      'products_stock_check'
    );
    await expectRejected(
      'products',
      `UPDATE products SET stock = stock - 3 WHERE id = $1`,
      [id],
      '23514',
      'products_stock_movements_only'
    );
    await db.sql.query(
      `INSERT INTO stock_movements (product_id, kind, quantity, reason) VALUES ($1, 'adjust', -3, 'Shrinkage')`,
      [id]
    );
    expect(await one(`SELECT stock FROM products WHERE id = $1`, [id])).toEqual({ stock: 0 });
  });
});

describe('orders', () => {
  const insert = `INSERT INTO orders (customer_id, total, status, currency, external_id) VALUES ($1, $2, $3, $4, $5)`;

  it('refuses a status outside the enum', async () => {
    await expectRejected('orders', insert, [world.customerId, 10, 'lost', 'USD', null], '22P02');
  });

  it('refuses a negative total', async () => {
    await expectRejected(
      'orders',
      insert,
      [world.customerId, -1, 'pending', 'USD', null],
      '23514',
      'orders_total_check'
    );
    await expect(db.sql.query(insert, [world.customerId, 0, 'pending', 'USD', null])).resolves.toBeTruthy();
  });

  it('accepts only three upper-case letters as currency', async () => {
    for (const currency of ['usd', 'EU', 'U$D']) {
      await expectRejected(
        'orders',
        insert,
        [world.customerId, 10, 'paid', currency, null],
        '23514',
        'orders_currency_check'
      );
    }
    await expectRejected('orders', insert, [world.customerId, 10, 'paid', 'EURO', null], '22001');
    await expect(db.sql.query(insert, [world.customerId, 10, 'paid', 'EUR', null])).resolves.toBeTruthy();
  });

  it('refuses a second order with the same external id, but not two without one', async () => {
    await db.sql.query(insert, [world.customerId, 10, 'paid', 'USD', 'shop-1001']);
    await expectRejected(
      'orders',
      insert,
      [world.customerId, 12, 'paid', 'USD', 'shop-1001'],
      '23505',
      'orders_external_id_key'
    );
    await db.sql.query(insert, [world.customerId, 10, 'paid', 'USD', null]);
    await expect(db.sql.query(insert, [world.customerId, 10, 'paid', 'USD', null])).resolves.toBeTruthy();
  });

  it('refuses an order for a customer that does not exist', async () => {
    await expectRejected(
      'orders',
      insert,
      [999_999, 10, 'paid', 'USD', null],
      '23503',
      'orders_customer_id_fkey'
    );
  });

  it('refuses to delete a customer who has orders', async () => {
    const customer = await createCustomer(db.sql, 'has.orders@example.com');
    await insertOrder(customer);
    await expectRejected(
      ['customers', 'orders'],
      `DELETE FROM customers WHERE id = $1`,
      [customer],
      '23503',
      'orders_customer_id_fkey'
    );
    const orderless = await createCustomer(db.sql, 'no.orders@example.com');
    expect((await db.sql.query(`DELETE FROM customers WHERE id = $1`, [orderless])).rowCount).toBe(1);
  });
});

describe('order_items', () => {
  const insert = `INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES ($1, $2, $3, 10)`;
  let orderId: number;
  let productId: number;
  beforeAll(async () => {
    orderId = await insertOrder(world.customerId);
    productId = await insertProduct();
  });

  it('accepts quantities from 1 to 10000 only', async () => {
    for (const quantity of [0, -1, 10_001]) {
      await expectRejected(
        'order_items',
        insert,
        [orderId, productId, quantity],
        '23514',
        'order_items_quantity_check'
      );
    }
    await db.sql.query(insert, [orderId, productId, 1]);
    await expect(db.sql.query(insert, [orderId, productId, 10_000])).resolves.toBeTruthy();
  });

  it('refuses to delete a product that was ordered', async () => {
    await db.sql.query(insert, [orderId, productId, 2]);
    await expectRejected(
      ['products', 'order_items'],
      `DELETE FROM products WHERE id = $1`,
      [productId],
      '23503',
      'order_items_product_id_fkey'
    );
    await expectRejected(
      'order_items',
      insert,
      [orderId, 999_999, 1],
      '23503',
      'order_items_product_id_fkey'
    );
  });
});

describe('reviews', () => {
  const insert = `INSERT INTO reviews (customer_id, product_id, rating) VALUES ($1, $2, $3)`;

  it('accepts ratings from 1 to 5 only', async () => {
    const productId = await insertProduct();
    for (const rating of [0, 6, -1]) {
      await expectRejected(
        'reviews',
        insert,
        [world.customerId, productId, rating],
        '23514',
        'reviews_rating_check'
      );
    }
    await expect(db.sql.query(insert, [world.customerId, productId, 5])).resolves.toBeTruthy();
  });

  it('allows one review per customer and product', async () => {
    const productId = await insertProduct();
    await db.sql.query(insert, [world.customerId, productId, 4]);
    await expectRejected(
      'reviews',
      insert,
      [world.customerId, productId, 2],
      '23505',
      'reviews_one_per_customer_product'
    );
    const other = await createCustomer(db.sql, 'second.reviewer@example.com');
    await expect(db.sql.query(insert, [other, productId, 2])).resolves.toBeTruthy();
  });
});
