import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPulse } from '../../server/pulse.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import {
  createCustomer,
  createLoyaltyAccount,
  createOrder,
  createTicket,
  createWorld,
  earnPoints
} from '../support/fixtures.js';
import { Browser, expectErrorShape } from '../support/http.js';
import { startTestServer } from '../support/server.js';

// The loyalty API: a member's points with available and pending apart, redeeming a reward for a
// code (409 when short), a manager's adjustment, an agent's goodwill from a ticket up to the
// program's limit, Idempotency-Key, and the "expiring soon" list.

let db: TestDatabase;
let server: RunningPulse;
let world: Awaited<ReturnType<typeof createWorld>>;
let as: Record<'agentA' | 'agentB' | 'manager', Browser>;
let seq = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  server = await startTestServer(db.url);
  as = {
    agentA: await Browser.signedIn(server.url, world.agentA.email),
    agentB: await Browser.signedIn(server.url, world.agentB.email),
    manager: await Browser.signedIn(server.url, world.manager.email)
  };
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

async function member(points: number) {
  const customerId = await createCustomer(db.sql, `api-${++seq}@example.com`);
  const accountId = await createLoyaltyAccount(db.sql, customerId);
  if (points > 0) await earnPoints(db.sql, { accountId, points, reason: 'Welcome', key: `api-earn-${seq}` });
  return { customerId, accountId };
}

describe('the loyalty API', () => {
  it('shows available and pending apart, with the lots behind them', async () => {
    const m = await member(300);
    const order = await createOrder(db.sql, { customerId: m.customerId, total: '42.50' });
    // A program with a week's return window, from now on.
    await db.sql.query(
      `INSERT INTO loyalty_program_versions (status, config, effective_at, published_at)
       SELECT 'published', jsonb_set(config, '{pendingDays}', '7'), now(), now() FROM loyalty_program_versions WHERE number = 1`
    );
    await db.sql.query(`UPDATE orders SET status = 'paid' WHERE id = $1`, [order]);
    const { account } = await as.agentA.getOk(`/api/loyalty/customers/${m.customerId}`);
    expect(account).toMatchObject({ balance: 342, available: 300, pending: 42, lifetimePoints: 342 });
    expect(account.lots.map((l: any) => [l.remaining, l.pending, l.orderId])).toEqual([
      [300, false, null],
      [42, true, order]
    ]);
    const ledger = await as.agentA.getOk(`/api/loyalty/customers/${m.customerId}/ledger?limit=1`);
    expect(ledger.rows).toMatchObject([
      { kind: 'earn', points: 42, pending: true, orderId: order, programVersion: 2 }
    ]);
    expect(ledger.nextCursor).not.toBeNull();
    const rest = await as.agentA.getOk(
      `/api/loyalty/customers/${m.customerId}/ledger?cursor=${ledger.nextCursor}`
    );
    expect(rest.rows).toMatchObject([{ kind: 'earn', points: 300, pending: false, programVersion: 1 }]);
    expect(rest.nextCursor).toBeNull();
  });

  it('redeems a reward for a unique code once per Idempotency-Key, and answers 409 when points are short', async () => {
    const m = await member(1200);
    const { rewards } = await as.agentA.getOk('/api/loyalty/rewards');
    expect(rewards.map((r: any) => r.id)).toContain('voucher-10');
    const headers = { 'Idempotency-Key': 'redeem-once-1' };
    const first = await as.agentA.post(
      `/api/loyalty/customers/${m.customerId}/redeem`,
      { rewardId: 'voucher-10' },
      headers
    );
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      applied: true,
      entry: { kind: 'redeem', points: -1000 },
      code: { rewardId: 'voucher-10' }
    });
    expect(first.body.code.code).toMatch(/^PTS-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    const again = await as.agentA.post(
      `/api/loyalty/customers/${m.customerId}/redeem`,
      { rewardId: 'voucher-10' },
      headers
    );
    expect(again.body).toMatchObject({ applied: false, code: { code: first.body.code.code } });

    const short = await as.agentA.post(`/api/loyalty/customers/${m.customerId}/redeem`, {
      rewardId: 'voucher-5'
    });
    expect(short.status).toBe(409);
    expectErrorShape(short.body);
    expect(short.body.error.code).toBe('conflict');
    const { account } = await as.agentA.getOk(`/api/loyalty/customers/${m.customerId}`);
    expect(account).toMatchObject({ balance: 200, available: 200 });
    const codes = await db.sql.query(
      `SELECT count(*)::int AS n FROM loyalty_reward_codes WHERE account_id = $1`,
      [m.accountId]
    );
    expect(codes.rows[0].n).toBe(1);
  });

  it('lets managers adjust with a reason, not agents', async () => {
    const m = await member(100);
    expect(
      (
        await as.agentA.post(`/api/loyalty/customers/${m.customerId}/adjust`, {
          points: 50,
          reason: 'Make good'
        })
      ).status
    ).toBe(403);
    const up = await as.manager.post(`/api/loyalty/customers/${m.customerId}/adjust`, {
      points: 50,
      reason: 'Make good'
    });
    expect(up.body.entry).toMatchObject({ kind: 'adjust', points: 50 });
    expect(up.body.entry.reason).toContain('Make good');
    const down = await as.manager.post(`/api/loyalty/customers/${m.customerId}/adjust`, {
      points: -500,
      reason: 'Too much'
    });
    expect(down.status).toBe(409);
    const { account } = await as.manager.getOk(`/api/loyalty/customers/${m.customerId}`);
    expect(account.balance).toBe(150);
  });

  it('grants goodwill from a ticket up to the limit per ticket, noted on the ticket', async () => {
    const m = await member(0);
    const ticket = await createTicket(db.sql, { customerId: m.customerId, teamId: world.teamA });
    const grant = (who: Browser, points: number, key?: string) =>
      who.post(
        `/api/loyalty/customers/${m.customerId}/goodwill`,
        { ticketId: ticket, points, reason: 'Late parcel' },
        key ? { 'Idempotency-Key': key } : {}
      );
    // Another team's agent does not see the ticket.
    expect((await grant(as.agentB, 100)).status).toBe(404);
    const first = await grant(as.agentA, 300, 'gw-1');
    expect(first.body).toMatchObject({ applied: true, grantedOnTicket: 300, limit: 500 });
    expect((await grant(as.agentA, 300, 'gw-1')).body).toMatchObject({
      applied: false,
      grantedOnTicket: 300
    });
    const over = await grant(as.agentA, 201);
    expect(over.status).toBe(409);
    expectErrorShape(over.body);
    expect(over.body.error.code).toBe('conflict');
    expect((await grant(as.agentA, 200)).body).toMatchObject({ applied: true, grantedOnTicket: 500 });
    const notes = await db.sql.query(
      `SELECT body FROM ticket_messages WHERE ticket_id = $1 AND internal ORDER BY id`,
      [ticket]
    );
    expect(notes.rows.map((r) => r.body)).toEqual([
      'Agent A granted 300 goodwill points: Late parcel',
      'Agent A granted 200 goodwill points: Late parcel'
    ]);
    const { account } = await as.agentA.getOk(`/api/loyalty/customers/${m.customerId}`);
    expect(account).toMatchObject({ balance: 500, available: 500 });
  });

  it('lists members whose points expire within 30 days', async () => {
    const m = await member(0);
    await db.sql.query(
      `INSERT INTO loyalty_program_versions (status, config, effective_at, published_at)
       SELECT 'published', jsonb_set(config, '{expiry}', '{"mode": "after_earn", "months": 12}'), now(), now()
         FROM loyalty_program_versions WHERE number = 1`
    );
    // Earned 350 days ago: expires in about 15 days. Earned 200 days ago: not within 30.
    for (const [points, days] of [
      [120, 350],
      [80, 200]
    ])
      await db.sql.query(
        `INSERT INTO loyalty_ledger (account_id, kind, points, reason, idempotency_key, created_at)
         VALUES ($1, 'earn', $2, 'Old', $3, now() - make_interval(days => $4))`,
        [m.accountId, points, `exp-${m.accountId}-${days}`, days]
      );
    expect((await as.agentA.get('/api/loyalty/expiring')).status).toBe(403);
    const page = await as.manager.getOk('/api/loyalty/expiring?days=30');
    const row = page.rows.find((r: any) => r.customerId === m.customerId);
    expect(row).toMatchObject({ points: 120 });
    expect(page.totalPoints).toBeGreaterThanOrEqual(120);
    const { account } = await as.manager.getOk(`/api/loyalty/customers/${m.customerId}`);
    expect(account.expiringSoon).toBe(120);
  });
});
