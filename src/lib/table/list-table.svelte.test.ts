import type { OrderRow } from '$shared/lists/orders.js';
import { describe, expect, it } from 'vitest';
import { ListTable } from './list-table.svelte.js';

const row = (id: number): OrderRow => ({
  id,
  version: 1,
  externalId: null,
  customerId: 1,
  customerName: 'Casey',
  customerEmail: 'casey@example.com',
  status: 'paid',
  channel: 'web',
  total: '10.00',
  currency: 'USD',
  orderDate: '2026-12-01T10:00:00Z',
  itemCount: 1,
  hasTicket: false,
  refunded: false
});

function table(ids = [1, 2, 3, 4, 5]) {
  const t = new ListTable({ entity: 'orders', sources: [], topics: ['order'] });
  t.rows = ids.map(row);
  t.loading = false;
  return t;
}

describe('ListTable sorting', () => {
  it('a click sorts by one column, a second click flips it; numbers start largest first', () => {
    const t = table();
    expect(t.sortedBy('total', false).sort).toEqual([{ field: 'total', dir: 'desc' }]);
    t.state = t.sortedBy('customerName', false);
    expect(t.state.sort).toEqual([{ field: 'customerName', dir: 'asc' }]);
    expect(t.sortedBy('customerName', false).sort).toEqual([{ field: 'customerName', dir: 'desc' }]);
  });

  it('shift adds a key, flips a key already there, and keeps at most three', () => {
    const t = table();
    t.state = { sort: [{ field: 'total', dir: 'desc' }] };
    t.state = t.sortedBy('itemCount', true);
    expect(t.state.sort.map((k) => k.field)).toEqual(['total', 'itemCount']);
    t.state = t.sortedBy('total', true);
    expect(t.state.sort[0]).toEqual({ field: 'total', dir: 'asc' });
    t.state = t.sortedBy('orderDate', true);
    t.state = t.sortedBy('status', true);
    expect(t.state.sort.map((k) => k.field)).toEqual(['total', 'itemCount', 'orderDate']);
  });
});

describe('ListTable selection', () => {
  it('shift-click selects the range from the last row clicked, and clears it the same way', () => {
    const t = table();
    t.toggle(2);
    t.toggle(4, true);
    expect([...t.selected].sort()).toEqual([2, 3, 4]);
    t.toggle(2);
    t.toggle(3, true);
    expect([...t.selected].sort()).toEqual([4]);
  });

  it('a whole page selected can widen to every matching row: the selection is then the filter', () => {
    const t = table([1, 2]);
    t.state = {
      q: 'casey',
      filter: { op: 'and', rules: [{ field: 'status', operator: 'is_any_of', value: ['paid'] }] },
      sort: [{ field: 'orderDate', dir: 'desc' }]
    };
    t.summary = { count: 120, sums: {}, averages: {} };
    t.togglePage();
    expect(t.pageAllSelected).toBe(true);
    expect(t.selection).toEqual({ kind: 'ids', ids: [1, 2], count: 2 });
    t.selectAllMatching();
    expect(t.selection).toEqual({ kind: 'filter', state: t.state, count: 120 });
    // Unchecking one row goes back to a list of ids.
    t.toggle(1);
    expect(t.selection).toEqual({ kind: 'ids', ids: [2], count: 1 });
  });

  it('the keyboard moves within the rows and stays at the ends', () => {
    const t = table([7, 8, 9]);
    expect(t.move(1)?.id).toBe(7);
    expect(t.move(5)?.id).toBe(9);
    expect(t.move(-1)?.id).toBe(8);
  });
});
