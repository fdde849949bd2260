import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPosition } from '#shared/stream-position.js';
import { ChangeReader } from '../../server/realtime/change-reader.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createCustomer } from '../support/fixtures.js';

// A backlog over the fast path's 2,000 rows is streamed in batches, and each batch goes out before
// the reader's cursor moves past them. A replay reads up to that cursor: one that started in the
// middle of such a read would stop short of the batches already sent, and the socket it is for
// would never get them. Replays therefore wait for `settled()`, which must not resolve before the
// large read's cursor has moved.

let db: TestDatabase;
let customerId: number;

beforeAll(async () => {
  db = await createTestDatabase();
  customerId = await createCustomer(db.sql, 'large-read@test.dev');
}, 120_000);

afterAll(async () => {
  await db?.drop();
});

describe('a large read and the replays that start during it', () => {
  it('settles only once the cursor has passed every batch it sent', async () => {
    const reader = new ChangeReader(db.sql);
    await reader.start();
    await db.sql.query(`INSERT INTO orders (customer_id, total) SELECT $1, 1 FROM generate_series(1, 4500)`, [
      customerId
    ]);
    const before = reader.horizon;
    const batches: number[] = [];
    const seenBySettled: Promise<string>[] = [];
    const found = await reader.read(({ rows }) => {
      batches.push(rows.length);
      // What a replay starting now would read up to, once it has waited.
      if (batches.length === 1) seenBySettled.push(reader.settled().then(() => reader.horizon));
    });
    expect(found).toBeGreaterThanOrEqual(4500);
    expect(batches.length).toBeGreaterThan(1);
    const after = formatPosition(reader.position!);
    expect(after).not.toBe(before);
    expect(await seenBySettled[0]).toBe(after);
    // Between reads it resolves at once.
    await reader.settled();
  });
});
