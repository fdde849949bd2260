import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPulse } from '../../server/pulse.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createTicket, createWorld } from '../support/fixtures.js';
import { Browser } from '../support/http.js';
import { connectSocket, record, until, waitFor, whenReady, type ClientSocket } from '../support/socket.js';
import { startTestServer } from '../support/server.js';

let db: TestDatabase;
let server: RunningPulse;
let world: Awaited<ReturnType<typeof createWorld>>;
const sockets: ClientSocket[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  server = await startTestServer(db.url);
});
afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await server?.close();
  await db?.drop();
});

async function cookieFor(email: string) {
  const b = new Browser(server.url);
  await b.login(email);
  return b.cookie;
}

const insertOrder = async (total: number) =>
  (await db.sql.query(`INSERT INTO orders (customer_id, total) VALUES ($1, $2) RETURNING id`, [world.customerId, total])).rows[0].id as number;

describe('a reconnecting client', () => {
  it('gets exactly what it missed, including a transaction that committed out of order', async () => {
    const cookie = await cookieFor(world.manager.email);
    const first = connectSocket(server.url, cookie);
    sockets.push(first);
    await whenReady(first);
    const before = await insertOrder(1);
    const applied = await waitFor(first, 'order:created', (e) => e.data.id === before);

    // A transaction opened before the disconnect commits while the client is away.
    const slow = await db.sql.connect();
    await slow.query('BEGIN');
    const slowId = (await slow.query(`INSERT INTO orders (customer_id, total) VALUES ($1, 2) RETURNING id`, [world.customerId])).rows[0].id;
    first.disconnect();

    const missed = [await insertOrder(3), await insertOrder(4)];
    await slow.query('COMMIT');
    slow.release();

    const second = connectSocket(server.url, cookie, { horizon: applied.horizon });
    sockets.push(second);
    const events = record(second, ['order:created']);
    const ready = await whenReady(second);
    await until(() => [slowId, ...missed].every((id) => events.some((e) => e.payload.data.id === id)), 2000, 'replay');
    // The client may be sent a change it already has (it drops seqs it applied), never one twice in the replay.
    const ids = events.map((e) => e.payload.data.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining([slowId, ...missed]));
    expect(ready.replayed).toBeGreaterThanOrEqual(3);
  });

  it('only replays what it may see', async () => {
    const cookie = await cookieFor(world.agentA.email);
    const first = connectSocket(server.url, cookie);
    sockets.push(first);
    const { horizon } = await whenReady(first);
    first.disconnect();
    const mine = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
    const theirs = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamB });
    const second = connectSocket(server.url, cookie, { horizon });
    sockets.push(second);
    const events = record(second, ['ticket:created']);
    await whenReady(second);
    const ids = events.map((e) => e.payload.data.id);
    expect(ids).toContain(mine);
    expect(ids).not.toContain(theirs);
  });

  it('is told to reload when its gap is older than the retention window', async () => {
    const cookie = await cookieFor(world.manager.email);
    const first = connectSocket(server.url, cookie);
    sockets.push(first);
    const { horizon } = await whenReady(first);
    first.disconnect();
    await insertOrder(5);
    // The retention job deleted rows the client would need.
    await db.sql.query(`UPDATE change_log_retention SET purged_through = pg_current_xact_id()`);
    const second = connectSocket(server.url, cookie, { horizon });
    sockets.push(second);
    const resync = waitFor(second, 'live:resync');
    await whenReady(second);
    expect((await resync).reason).toBe('retention');
  });
});
