import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../../db/seed/random.js';
import { ChangeReader } from '../../server/realtime/change-reader.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createCustomer, createTeam, createUser } from '../support/fixtures.js';
import { drain as drainInto, reconciledMetrics } from '../support/metrics.js';

// The wallboard kept from the change stream must equal the wallboard recomputed from SQL, after
// any mix of inserts, updates and deletes, including ones that move rows in and out of "today",
// and while a reconcile runs in the middle of the stream.

const TZ = 'Asia/Kolkata'; // +05:30: store days start at 18:30 UTC
const HOUR = 3_600_000;
const NOW = Date.parse('2026-11-24T09:15:00Z'); // 14:45 in Kolkata
const atNow = { timezone: TZ, clock: () => NOW };

let db: TestDatabase;
let team: number;
const customers: number[] = [];
const agentIds: number[] = [];
const accounts: number[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  team = await createTeam(db.sql, 'Support');
  await db.sql.query(`UPDATE teams SET auto_assign = false`);
  for (let i = 0; i < 4; i++) {
    agentIds.push(
      (
        await createUser(db.sql, {
          email: `agent${i}@test.dev`,
          role: 'agent',
          teamId: team,
          name: `Agent ${i}`
        })
      ).id
    );
  }
  for (let i = 0; i < 6; i++) customers.push(await createCustomer(db.sql, `c${i}@example.com`));
  for (const c of customers.slice(0, 3)) {
    accounts.push(
      (
        await db.sql.query(
          `INSERT INTO loyalty_accounts (customer_id, joined_at) VALUES ($1, $2) RETURNING id`,
          [c, new Date(NOW - 30 * HOUR)]
        )
      ).rows[0].id
    );
  }
});
afterAll(async () => {
  await db?.drop();
});

/** A random change of the kind the shop makes, with times spread over yesterday, today and a little after now. */
class Stream {
  private orders: number[] = [];
  private tickets: number[] = [];
  private entry = 0;
  constructor(
    private readonly sql: pg.Pool,
    private readonly rng: Random
  ) {}

  private when() {
    return new Date(NOW + Math.round(this.rng.between(-52, 1.5) * HOUR));
  }

  async step() {
    const r = this.rng.next();
    if (r < 0.22 || this.orders.length === 0) return this.insertOrder();
    if (r < 0.42) return this.updateOrder();
    if (r < 0.47) return this.deleteOrder();
    if (r < 0.62 || this.tickets.length === 0) return this.insertTicket();
    if (r < 0.82) return this.updateTicket();
    if (r < 0.86) return this.deleteTicket();
    if (r < 0.94) return this.ledger();
    if (r < 0.97) return this.agentStatus();
    return this.threshold();
  }

  private async insertOrder() {
    const status = this.rng.pick(['pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded']);
    const placed = this.when();
    const refunded =
      status === 'refunded' ? new Date(Math.max(placed.getTime(), this.when().getTime())) : null;
    const { rows } = await this.sql.query(
      `INSERT INTO orders (customer_id, order_date, total, status, refunded_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [this.rng.pick(customers), placed, (this.rng.int(100, 50_000) / 100).toFixed(2), status, refunded]
    );
    this.orders.push(rows[0].id);
  }

  private async updateOrder() {
    const id = this.rng.pick(this.orders);
    const which = this.rng.int(0, 2);
    if (which === 0) {
      await this.sql.query(`UPDATE orders SET status = $2 WHERE id = $1`, [
        id,
        this.rng.pick(['paid', 'delivered', 'cancelled', 'refunded'])
      ]);
    } else if (which === 1) {
      await this.sql.query(`UPDATE orders SET order_date = $2 WHERE id = $1`, [id, this.when()]);
    } else {
      await this.sql.query(`UPDATE orders SET total = $2 WHERE id = $1`, [
        id,
        (this.rng.int(100, 50_000) / 100).toFixed(2)
      ]);
    }
  }

  private async deleteOrder() {
    const id = this.orders.splice(this.rng.int(0, this.orders.length - 1), 1)[0];
    await this.sql.query(`DELETE FROM orders WHERE id = $1`, [id]);
  }

  private async insertTicket() {
    const created = this.when();
    const status = this.rng.pick(['new', 'open', 'pending', 'resolved', 'closed']);
    const responded =
      status === 'new' ? null : new Date(created.getTime() + (this.rng.int(1, 20) * HOUR) / 4);
    const resolved =
      status === 'resolved' || status === 'closed'
        ? new Date((responded ?? created).getTime() + (this.rng.int(1, 20) * HOUR) / 4)
        : null;
    const csat =
      resolved && this.rng.chance(0.5)
        ? [this.rng.int(1, 5), new Date(resolved.getTime() + HOUR)]
        : [null, null];
    const assignee = this.rng.chance(0.6) ? this.rng.pick(agentIds) : null;
    const { rows } = await this.sql.query(
      `INSERT INTO tickets (customer_id, team_id, subject, status, priority, assignee_id, assigned_at, created_at,
                            first_responded_at, resolved_at, closed_at, csat_score, csat_at)
       VALUES ($1, $2, 'Random', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
      [
        this.rng.pick(customers.slice(3)),
        team,
        status,
        this.rng.pick(['low', 'normal', 'high', 'urgent']),
        assignee,
        assignee ? created : null,
        created,
        responded,
        resolved,
        status === 'closed' ? resolved : null,
        csat[0],
        csat[1]
      ]
    );
    this.tickets.push(rows[0].id);
  }

  private async updateTicket() {
    const id = this.rng.pick(this.tickets);
    const which = this.rng.int(0, 3);
    if (which === 0) {
      // Reopen, or resolve now-ish.
      if (this.rng.chance(0.5))
        await this.sql.query(
          `UPDATE tickets SET status = 'open', resolved_at = NULL, closed_at = NULL WHERE id = $1`,
          [id]
        );
      else
        await this.sql.query(
          `UPDATE tickets SET status = 'resolved', resolved_at = greatest(created_at, $2), closed_at = NULL WHERE id = $1`,
          [id, this.when()]
        );
    } else if (which === 1) {
      await this.sql.query(`UPDATE tickets SET priority = $2 WHERE id = $1`, [
        id,
        this.rng.pick(['low', 'normal', 'high', 'urgent'])
      ]);
    } else if (which === 2) {
      await this.sql.query(`UPDATE tickets SET assignee_id = $2 WHERE id = $1`, [
        id,
        this.rng.chance(0.3) ? null : this.rng.pick(agentIds)
      ]);
    } else {
      await this.sql.query(`UPDATE tickets SET first_responded_at = greatest(created_at, $2) WHERE id = $1`, [
        id,
        this.when()
      ]);
    }
  }

  private async deleteTicket() {
    const id = this.tickets.splice(this.rng.int(0, this.tickets.length - 1), 1)[0];
    await this.sql.query(`DELETE FROM tickets WHERE id = $1`, [id]);
  }

  private async ledger() {
    const account = this.rng.pick(accounts);
    await this.sql.query(
      `INSERT INTO loyalty_ledger (account_id, kind, points, reason, idempotency_key, created_at) VALUES ($1, 'earn', $2, 'stream', $3, $4)`,
      [account, this.rng.int(50, 3000), `stream:${++this.entry}`, this.when()]
    );
  }

  private async agentStatus() {
    await this.sql.query(`UPDATE users SET status = $2 WHERE id = $1`, [
      this.rng.pick(agentIds),
      this.rng.pick(['online', 'busy', 'away', 'offline'])
    ]);
  }

  private async threshold() {
    await this.sql.query(
      `INSERT INTO wallboard_thresholds (metric, comparison, value) VALUES ($1, $2, $3)
       ON CONFLICT (metric) DO UPDATE SET comparison = excluded.comparison, value = excluded.value`,
      [
        this.rng.pick(['open_tickets', 'orders_today', 'revenue_today']),
        this.rng.pick(['above', 'below']),
        this.rng.int(0, 40)
      ]
    );
  }
}

describe('incremental metrics', () => {
  it(
    'equal a fresh recomputation after 600 random changes, with a reconcile in the middle',
    { timeout: 120_000 },
    async () => {
      const reader = new ChangeReader(db.sql);
      await reader.start();
      const metrics = await reconciledMetrics(db.sql, atNow);
      const drain = () => drainInto(reader, metrics);

      const stream = new Stream(db.sql, new Random(20261124));
      for (let i = 0; i < 300; i++) {
        await stream.step();
        if (i % 25 === 0) await drain();
      }
      // A reconcile while changes keep landing and being applied.
      const reconciling = metrics.reconcile();
      for (let i = 0; i < 40; i++) {
        await stream.step();
        await drain();
      }
      await reconciling;
      for (let i = 0; i < 260; i++) {
        await stream.step();
        if (i % 10 === 0) await drain();
      }
      await drain();

      const fresh = await reconciledMetrics(db.sql, atNow);
      const incremental = metrics.snapshot()!;
      const recomputed = fresh.snapshot()!;
      expect(incremental).toEqual(recomputed);
      // The stream really moved the numbers it is meant to exercise.
      expect(recomputed.commerce.ordersToday.value).toBeGreaterThan(0);
      expect(
        recomputed.commerce.refundsToday.value + recomputed.commerce.refundsToday.sameTimeYesterday!
      ).toBeGreaterThan(0);
      expect(recomputed.support.openTickets.value).toBeGreaterThan(0);
      expect(recomputed.support.firstResponseMedianSeconds.value).not.toBeNull();
      expect(recomputed.loyalty.pointsIssued.value).toBeGreaterThan(0);
      expect(Object.values(recomputed.support.byPriority).reduce((a, b) => a + b, 0)).toBe(
        recomputed.support.openTickets.value
      );
    }
  );

  it('catch a change made while nobody listens only at the next reconcile: the reconcile is what repairs drift', async () => {
    const metrics = await reconciledMetrics(db.sql, atNow);
    const before = metrics.snapshot()!.commerce.ordersToday.value;
    await db.sql.query(`INSERT INTO orders (customer_id, order_date, total) VALUES ($1, $2, 10)`, [
      customers[0],
      new Date(NOW - HOUR)
    ]);
    expect(metrics.snapshot()!.commerce.ordersToday.value).toBe(before); // never applied
    await metrics.reconcile();
    expect(metrics.snapshot()!.commerce.ordersToday.value).toBe(before + 1);
  });
});
