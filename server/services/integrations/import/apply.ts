import type { ImportEntity, ImportReject } from '#shared/schemas/imports.js';
import type { Db } from '../../../data/db.js';

// The set-based statements that apply one staged batch (inside the batch's transaction). Updates
// only touch rows whose values differ (`IS DISTINCT FROM`): importing a file again writes nothing,
// so no version moves and no change reaches the change log. A field the file does not give (not
// mapped, or an empty cell) keeps its value.

export interface Applied {
  imported: number;
  updated: number;
  rejects: ImportReject[];
}

/** What a batch is applied with besides its rows. */
export interface ApplyContext {
  jobId: number | null;
  /** The source the file's external ids belong to. */
  source: string;
  /** The file's column for a field, as rejects name it. */
  column: (field: string) => string;
  /** Whether the file maps customers' external ids (else their statements are skipped). */
  externalIds: boolean;
}

async function applyCustomers(db: Db, { source, column, externalIds }: ApplyContext): Promise<Applied> {
  // Who each row is: the customer holding its external id in this source, else the customer with
  // its email (case-insensitively). Both are followed through merges (customer_aliases): a
  // merged-away customer's row is frozen, the survivor takes the update.
  if (externalIds)
    await db.query(
      `UPDATE import_stage_customers s SET target = resolve_customer_id(c.id), by_external = true
         FROM customers c
        WHERE s.external_id IS NOT NULL AND c.external_source = $1 AND c.external_id = s.external_id`,
      [source]
    );
  // One index probe a row (a join would hash the whole of customers for every batch).
  await db.query(
    `UPDATE import_stage_customers s
        SET target = (SELECT resolve_customer_id(c.id) FROM customers c WHERE lower(c.email) = lower(s.email))
      WHERE s.target IS NULL`
  );
  // A row whose email and external id name two different customers is refused, not guessed at.
  const conflicts = !externalIds
    ? []
    : await db.query<{ line: number; column: 'email' | 'external_id'; reason: string }>(
        `SELECT s.line, 'external_id' AS column,
                format('this email belongs to a customer whose external id is %s (source %s)',
                       c.external_id, c.external_source) AS reason
           FROM import_stage_customers s JOIN customers c ON c.id = s.target
          WHERE NOT s.by_external AND s.external_id IS NOT NULL AND c.external_id IS NOT NULL
         UNION ALL
         SELECT s.line, 'email', format('email %s belongs to another customer (#%s)', s.email, resolve_customer_id(o.id))
           FROM import_stage_customers s JOIN customers o ON lower(o.email) = lower(s.email)
          WHERE s.by_external AND resolve_customer_id(o.id) <> s.target
          ORDER BY 1`
      );
  if (conflicts.length)
    await db.query(`DELETE FROM import_stage_customers WHERE line = ANY ($1::int[])`, [
      conflicts.map((c) => c.line)
    ]);
  // The email follows the file where the customer was found by its own external id (and the email
  // is no other customer's); a customer found by email takes the row's external id when it has none.
  if (externalIds)
    await db.query(
      `UPDATE import_stage_customers s
          SET own_id = s.by_external AND c.external_source = $1 AND c.external_id = s.external_id
                       AND NOT EXISTS (SELECT 1 FROM customers o WHERE lower(o.email) = lower(s.email) AND o.id <> c.id),
              takes_id = NOT s.by_external AND c.external_id IS NULL AND s.external_id IS NOT NULL
         FROM customers c
        WHERE c.id = s.target AND s.target IS NOT NULL`,
      [source]
    );
  // \`target IS NOT NULL\` says what the join implies, for the planner: the staged rows of new
  // customers (all of a first import's) then count as none, and the customers they join are found
  // by their primary key, instead of a hash of every customer built for each batch (about 0.8 s a
  // batch at 100,000 customers, growing with the table; docs/performance.md, "importcpu").
  const updated = await db.query<{ line: number }>(
    `UPDATE customers c
        SET email = CASE WHEN t.own_id THEN t.email ELSE c.email END,
            external_source = CASE WHEN t.takes_id THEN $1 ELSE c.external_source END,
            external_id = CASE WHEN t.takes_id THEN t.external_id ELSE c.external_id END,
            first_name = t.first_name,
            last_name = coalesce(t.last_name, c.last_name),
            phone = coalesce(t.phone, c.phone),
            language = coalesce(t.language, c.language),
            tags = coalesce(t.tags, c.tags),
            notes = coalesce(t.notes, c.notes),
            marketing_consent = coalesce(t.marketing_consent, c.marketing_consent),
            marketing_consent_at = CASE WHEN coalesce(t.marketing_consent, c.marketing_consent)
                                        THEN coalesce(c.marketing_consent_at, now()) ELSE c.marketing_consent_at END
       FROM import_stage_customers t
      WHERE c.id = t.target AND t.target IS NOT NULL
        AND (c.email, c.external_id, c.first_name, c.last_name, c.phone, c.language, c.tags, c.notes,
             c.marketing_consent)
            IS DISTINCT FROM
            (CASE WHEN t.own_id THEN t.email ELSE c.email END,
             CASE WHEN t.takes_id THEN t.external_id ELSE c.external_id END,
             t.first_name, coalesce(t.last_name, c.last_name), coalesce(t.phone, c.phone),
             coalesce(t.language, c.language), coalesce(t.tags, c.tags), coalesce(t.notes, c.notes),
             coalesce(t.marketing_consent, c.marketing_consent))
     RETURNING t.line`,
    [source]
  );
  const inserted = await db.query<{ id: number }>(
    `INSERT INTO customers (email, external_source, external_id, first_name, last_name, phone, phone_e164,
                            language, tags, notes, marketing_consent, marketing_consent_at)
     SELECT s.email, CASE WHEN s.external_id IS NOT NULL THEN $1 END, s.external_id, s.first_name,
            coalesce(s.last_name, ''), s.phone,
            phone_e164_fallback(s.phone, (SELECT default_country_code FROM phone_settings)),
            coalesce(s.language, 'en'), coalesce(s.tags, '{}'),
            coalesce(s.notes, ''), coalesce(s.marketing_consent, false), CASE WHEN s.marketing_consent THEN now() END
       FROM import_stage_customers s
      WHERE s.target IS NULL
      ORDER BY s.line
     ON CONFLICT ((lower(email))) DO NOTHING
     RETURNING id`,
    [source]
  );
  return {
    imported: inserted.length,
    updated: updated.length,
    rejects: conflicts.map((c) => ({ line: c.line, column: column(c.column), reason: c.reason }))
  };
}

async function applyProducts(db: Db, { jobId }: ApplyContext): Promise<Applied> {
  const updated = await db.query<{ id: number; line: number; stock: number | null; current: number }>(
    `WITH changed AS (
       SELECT p.id, s.line, s.stock, p.stock AS current
         FROM import_stage_products s JOIN products p ON p.sku = s.sku
        WHERE (p.name, p.price, p.description, p.active, p.stock)
              IS DISTINCT FROM
              (s.name, s.price, coalesce(s.description, p.description), coalesce(s.active, p.active),
               coalesce(s.stock, p.stock))
        ORDER BY p.id
          FOR NO KEY UPDATE OF p
     ), meta AS (
       UPDATE products p
          SET name = s.name, price = s.price, description = coalesce(s.description, p.description),
              active = coalesce(s.active, p.active)
         FROM import_stage_products s, changed
        WHERE changed.id = p.id AND s.line = changed.line
          AND (p.name, p.price, p.description, p.active)
              IS DISTINCT FROM (s.name, s.price, coalesce(s.description, p.description), coalesce(s.active, p.active))
     )
     SELECT * FROM changed`
  );
  // Stock moves only through movements (migration 0018): a different count is an adjustment.
  const adjust = updated.filter((u) => u.stock !== null && u.stock !== u.current);
  if (adjust.length)
    await db.query(
      `INSERT INTO stock_movements (product_id, kind, quantity, reason)
       SELECT id, 'adjust', quantity, $3 FROM unnest($1::int[], $2::int[]) AS a(id, quantity) ORDER BY id`,
      [
        adjust.map((a) => a.id),
        adjust.map((a) => a.stock! - a.current),
        jobId === null ? 'Stock set by an import' : `Stock set by import #${jobId}`
      ]
    );
  const inserted = await db.query<{ id: number }>(
    `INSERT INTO products (sku, name, price, stock, description, active)
     SELECT s.sku, s.name, s.price, coalesce(s.stock, 0), coalesce(s.description, ''), coalesce(s.active, true)
       FROM import_stage_products s
      WHERE NOT EXISTS (SELECT 1 FROM products p WHERE p.sku = s.sku)
      ORDER BY s.line
     ON CONFLICT (sku) DO NOTHING
     RETURNING id`
  );
  return { imported: inserted.length, updated: updated.length, rejects: [] };
}

async function applyOrders(db: Db, { source }: ApplyContext): Promise<Applied> {
  const rejects: ImportReject[] = [];
  await db.query(
    `UPDATE import_stage_orders s
        SET resolved_customer = resolve_customer_id(coalesce(
              (SELECT c.id FROM customers c WHERE c.id = s.customer_id),
              (SELECT c.id FROM customers c WHERE c.external_source = $1 AND c.external_id = s.customer_external_id),
              (SELECT c.id FROM customers c WHERE lower(c.email) = lower(s.email)))),
            product_id = (SELECT p.id FROM products p WHERE p.sku = s.sku)`,
    [source]
  );
  const unresolved = await db.query<{
    line: number;
    ref: string;
    customer: boolean;
    product: boolean;
    sku: string;
  }>(
    `SELECT line, ref, resolved_customer IS NULL AS customer, product_id IS NULL AS product, sku
       FROM import_stage_orders WHERE resolved_customer IS NULL OR product_id IS NULL`
  );
  for (const u of unresolved) {
    if (u.customer)
      rejects.push({
        line: u.line,
        column: 'customer_email',
        reason: 'no customer with this email, external id or id'
      });
    if (u.product) rejects.push({ line: u.line, column: 'sku', reason: `no product with SKU ${u.sku}` });
  }
  // Every line of a refused order is refused with it (an order is whole or not at all).
  const refused = [...new Set(unresolved.map((u) => u.ref))];
  if (refused.length) {
    const others = await db.query<{ line: number }>(
      `DELETE FROM import_stage_orders WHERE ref = ANY ($1::text[]) RETURNING line`,
      [refused]
    );
    const named = new Set(rejects.map((r) => r.line));
    for (const o of others)
      if (!named.has(o.line))
        rejects.push({ line: o.line, column: null, reason: 'another item of this order was rejected' });
  }
  // An order already here whose items the file gives otherwise gets the file's items, exactly:
  // the stock its old items took comes back first (an order that holds stock sells the new ones
  // as they are written, migration 0018), and its total follows. Identical items are left alone.
  const replaced = (
    await db.query<{ id: number; ref: string }>(
      `WITH file AS (
         SELECT ref, array_agg(ARRAY[product_id, quantity, (unit_price * 100)::bigint]
                               ORDER BY product_id, quantity, unit_price) AS items
           FROM import_stage_orders GROUP BY ref
       ), stored AS (
         SELECT o.id, o.external_id AS ref,
                array_agg(ARRAY[i.product_id, i.quantity, (i.unit_price * 100)::bigint]
                          ORDER BY i.product_id, i.quantity, i.unit_price) FILTER (WHERE i.id IS NOT NULL) AS items
           FROM orders o LEFT JOIN order_items i ON i.order_id = o.id
          WHERE o.external_id IN (SELECT ref FROM file)
          GROUP BY o.id
       )
       SELECT d.id, d.ref FROM file f JOIN stored d USING (ref)
        WHERE f.items IS DISTINCT FROM d.items
        ORDER BY d.id`
    )
  ).map((r) => ({ id: Number(r.id), ref: r.ref }));
  if (replaced.length) {
    const ids = replaced.map((r) => r.id);
    await db.query(
      `INSERT INTO stock_movements (product_id, kind, quantity, reason, order_id, order_item_id)
       SELECT s.product_id, 'return', -s.quantity, format('Order #%s: items replaced by an import', s.order_id),
              s.order_id, s.order_item_id
         FROM stock_movements s
        WHERE s.order_id = ANY ($1::int[]) AND s.kind = 'sell'
          AND NOT EXISTS (SELECT 1 FROM stock_movements r WHERE r.order_item_id = s.order_item_id AND r.kind = 'return')
        ORDER BY s.product_id, s.order_item_id
       ON CONFLICT (order_item_id, kind) WHERE order_item_id IS NOT NULL DO NOTHING`,
      [ids]
    );
    await db.query(`DELETE FROM order_items WHERE order_id = ANY ($1::int[])`, [ids]);
    await insertItems(db, replaced);
  }
  const updated = await db.query<{ id: number }>(
    `WITH head AS (
       SELECT DISTINCT ON (ref) ref, resolved_customer, order_date, status, currency, channel,
              sum(quantity * unit_price) OVER (PARTITION BY ref) AS total
         FROM import_stage_orders ORDER BY ref, line
     )
     UPDATE orders o
        SET customer_id = h.resolved_customer, order_date = coalesce(h.order_date, o.order_date),
            status = coalesce(h.status, o.status), currency = coalesce(h.currency, o.currency),
            channel = coalesce(h.channel, o.channel),
            total = CASE WHEN o.id = ANY ($1::int[]) THEN h.total ELSE o.total END
       FROM head h
      WHERE o.external_id = h.ref
        AND (o.customer_id, o.order_date, o.status, o.currency, o.channel, o.total) IS DISTINCT FROM
            (h.resolved_customer, coalesce(h.order_date, o.order_date), coalesce(h.status, o.status),
             coalesce(h.currency, o.currency), coalesce(h.channel, o.channel),
             CASE WHEN o.id = ANY ($1::int[]) THEN h.total ELSE o.total END)
     RETURNING o.id`,
    [replaced.map((r) => r.id)]
  );
  const inserted = await db.query<{ id: number; external_id: string }>(
    `INSERT INTO orders (customer_id, order_date, status, total, currency, channel, external_id)
     SELECT (array_agg(resolved_customer ORDER BY line))[1], coalesce((array_agg(order_date ORDER BY line))[1], now()),
            coalesce((array_agg(status ORDER BY line))[1], 'pending'), sum(quantity * unit_price),
            coalesce((array_agg(currency ORDER BY line))[1], 'USD'), coalesce((array_agg(channel ORDER BY line))[1], 'web'),
            ref
       FROM import_stage_orders s
      WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.external_id = s.ref)
      GROUP BY ref ORDER BY min(line)
     ON CONFLICT (external_id) DO NOTHING
     RETURNING id, external_id`
  );
  if (inserted.length)
    await insertItems(
      db,
      inserted.map((i) => ({ id: i.id, ref: i.external_id }))
    );
  const changed = new Set([...updated.map((u) => Number(u.id)), ...replaced.map((r) => r.id)]);
  return { imported: inserted.length, updated: changed.size, rejects };
}

/** The staged items of these orders (by the file's order id), in the file's order. */
async function insertItems(db: Db, orders: { id: number; ref: string }[]) {
  await db.query(
    `INSERT INTO order_items (order_id, product_id, quantity, unit_price)
     SELECT n.id, s.product_id, s.quantity, s.unit_price
       FROM import_stage_orders s JOIN unnest($1::int[], $2::text[]) AS n(id, ref) ON n.ref = s.ref
      ORDER BY n.id, s.line`,
    [orders.map((o) => o.id), orders.map((o) => o.ref)]
  );
}

export async function applyBatch(entity: ImportEntity, db: Db, context: ApplyContext): Promise<Applied> {
  // Customers an import brings are not signing up: no sign-up bonus (migration 0031).
  await db.query(`SELECT set_config('pulse.import', 'on', true)`);
  if (entity === 'customers') return applyCustomers(db, context);
  if (entity === 'products') return applyProducts(db, context);
  return applyOrders(db, context);
}
