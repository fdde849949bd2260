import { describe, it, expect } from 'vitest';
import { db, world, one, insertOrder, useSchemaDatabase } from './schema-support.js';

useSchemaDatabase();

describe('change_log capture', () => {
  const lastChange = async () => Number((await one(`SELECT coalesce(max(id), 0) AS id FROM change_log`)).id);
  const changesSince = async (id: number) =>
    (
      await db.sql.query(
        `SELECT topic, op, entity_id::int AS entity_id, customer_id FROM change_log WHERE id > $1 ORDER BY id`,
        [id]
      )
    ).rows;

  it('writes one change_log row per INSERT, UPDATE and DELETE of an order', async () => {
    let mark = await lastChange();
    const orderId = await insertOrder(world.customerId);
    expect(await changesSince(mark)).toEqual([
      { topic: 'order', op: 'insert', entity_id: orderId, customer_id: world.customerId }
    ]);

    mark = await lastChange();
    await db.sql.query(`UPDATE orders SET status = 'paid' WHERE id = $1`, [orderId]);
    const statusChange = await one(`SELECT id FROM order_status_changes WHERE order_id = $1`, [orderId]);
    // The order, and its status history row (the customer 360's timeline).
    expect(await changesSince(mark)).toEqual([
      { topic: 'order', op: 'update', entity_id: orderId, customer_id: world.customerId },
      {
        topic: 'order_status_change',
        op: 'insert',
        entity_id: Number(statusChange.id),
        customer_id: world.customerId
      }
    ]);
    // The version that was replaced travels with the fields that changed.
    expect(await one(`SELECT old FROM change_log WHERE id > $1 AND topic = 'order'`, [mark])).toEqual({
      old: { status: 'pending', version: 1 }
    });
    expect(await one(`SELECT version FROM orders WHERE id = $1`, [orderId])).toEqual({ version: 2 });

    mark = await lastChange();
    await db.sql.query(`DELETE FROM orders WHERE id = $1`, [orderId]);
    expect(await changesSince(mark)).toEqual([
      { topic: 'order', op: 'delete', entity_id: orderId, customer_id: world.customerId }
    ]);
  });

  it('writes nothing for an UPDATE that changes nothing', async () => {
    const orderId = await insertOrder(world.customerId);
    const mark = await lastChange();
    const result = await db.sql.query(`UPDATE orders SET status = status, total = total WHERE id = $1`, [
      orderId
    ]);
    expect(result.rowCount).toBe(1);
    expect(await changesSince(mark)).toEqual([]);
  });

  it('pauses capture with pause_capture() for that transaction only', async () => {
    const client = await db.sql.connect();
    try {
      const mark = await lastChange();
      await client.query('BEGIN');
      await client.query(`SELECT pause_capture()`);
      const quiet = (
        await client.query(`INSERT INTO orders (customer_id, total) VALUES ($1, 1) RETURNING id`, [
          world.customerId
        ])
      ).rows[0].id;
      await client.query('COMMIT');
      expect(await one(`SELECT count(*)::int AS n FROM orders WHERE id = $1`, [quiet])).toEqual({ n: 1 });
      expect(await changesSince(mark)).toEqual([]);

      // Same connection, next transaction: captured again.
      const loud = (
        await client.query(`INSERT INTO orders (customer_id, total) VALUES ($1, 2) RETURNING id`, [
          world.customerId
        ])
      ).rows[0].id;
      expect(await changesSince(mark)).toEqual([
        { topic: 'order', op: 'insert', entity_id: loud, customer_id: world.customerId }
      ]);
    } finally {
      client.release();
    }
  });
});
