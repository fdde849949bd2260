import { describe, expect, it } from 'vitest';
import { computeSnapshot } from './compute.js';
import { KEPT_FACTS, WallboardState, thresholdFact } from './facts.js';

// The wallboard's numbers from its facts, with no database: the same function the live path and
// GET /api/wallboard call (their equality with SQL is tests/integration/metrics-*.test.ts's job).

const HOUR = 3_600_000;
const todayStart = Date.parse('2026-12-01T00:00:00Z');
const bounds = {
  day: '2026-12-01',
  yesterdayStart: todayStart - 24 * HOUR,
  todayStart,
  tomorrowStart: todayStart + 24 * HOUR
};
const now = todayStart + 10 * HOUR;

function stateWith(
  orders: { id: number; at: number; total: string; status?: string; refundedAt?: number }[]
) {
  const state = new WallboardState('UTC', bounds);
  for (const o of orders) {
    KEPT_FACTS.order(state, o.id, {
      id: o.id,
      order_date: new Date(o.at).toISOString(),
      total: o.total,
      status: o.status ?? 'paid',
      refunded_at: o.refundedAt === undefined ? null : new Date(o.refundedAt).toISOString()
    });
  }
  return state;
}

describe('computeSnapshot', () => {
  it("counts today's sales exactly, against yesterday up to the same time", () => {
    const state = stateWith([
      { id: 1, at: todayStart + HOUR, total: '0.10' },
      { id: 2, at: todayStart + 2 * HOUR, total: '0.20' },
      { id: 3, at: todayStart + 3 * HOUR, total: '99.99', status: 'cancelled' },
      { id: 4, at: bounds.yesterdayStart + HOUR, total: '10.00' },
      // Yesterday, but later than the time it is now: not in the same-time comparison.
      { id: 5, at: bounds.yesterdayStart + 20 * HOUR, total: '500.00' }
    ]);
    const { commerce } = computeSnapshot(state, now);
    expect(commerce.ordersToday).toMatchObject({ value: 2, sameTimeYesterday: 1, alert: false });
    // 0.10 + 0.20 is 0.30 in hundredths, not 0.30000000000000004.
    expect(commerce.revenueToday).toMatchObject({ value: '0.30', sameTimeYesterday: '10.00' });
    expect(commerce.averageOrderValue.value).toBe('0.15');
  });

  it('counts a refund on the day it happened, whenever the order was placed', () => {
    const state = stateWith([
      {
        id: 1,
        at: bounds.yesterdayStart + HOUR,
        total: '42.50',
        status: 'refunded',
        refundedAt: todayStart + HOUR
      }
    ]);
    const { commerce } = computeSnapshot(state, now);
    expect(commerce.refundsToday.value).toBe(1);
    expect(commerce.refundAmountToday.value).toBe('42.50');
    expect(commerce.ordersToday.value).toBe(0);
  });

  it('puts a tile in alert when its value crosses the threshold', () => {
    const state = stateWith([{ id: 1, at: todayStart + HOUR, total: '30.00' }]);
    state.thresholds.set(
      'revenue_today',
      thresholdFact({ metric: 'revenue_today', comparison: 'above', value: '29.99' })
    );
    state.thresholds.set(
      'orders_today',
      thresholdFact({ metric: 'orders_today', comparison: 'above', value: '1' })
    );
    const snapshot = computeSnapshot(state, now);
    expect(snapshot.commerce.revenueToday).toMatchObject({
      alert: true,
      threshold: { comparison: 'above', value: '29.99' }
    });
    expect(snapshot.commerce.ordersToday.alert).toBe(false);
  });
});
