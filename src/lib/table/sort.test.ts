import { describe, expect, it } from 'vitest';
import type { FieldDef } from '$shared/lists/fields.js';
import { compareRows } from './sort.js';

const fields: FieldDef[] = [
  { key: 'total', label: 'Total', type: 'money', sortable: true, filterable: true, defaultVisible: true },
  { key: 'name', label: 'Name', type: 'text', sortable: true, filterable: true, defaultVisible: true },
  { key: 'lastOrderAt', label: 'Last', type: 'date', sortable: true, filterable: true, defaultVisible: true }
];

describe('compareRows', () => {
  it('orders money as numbers, not text, in the key direction', () => {
    const a = { id: 1, total: '9.50' };
    const b = { id: 2, total: '100.00' };
    expect(compareRows(a, b, [{ field: 'total', dir: 'asc' }], fields)).toBeLessThan(0);
    expect(compareRows(a, b, [{ field: 'total', dir: 'desc' }], fields)).toBeGreaterThan(0);
  });

  it('puts nulls last in both directions and breaks ties on id', () => {
    const a = { id: 1, lastOrderAt: null };
    const b = { id: 2, lastOrderAt: '2026-01-01T00:00:00Z' };
    expect(compareRows(a, b, [{ field: 'lastOrderAt', dir: 'asc' }], fields)).toBeGreaterThan(0);
    expect(compareRows(a, b, [{ field: 'lastOrderAt', dir: 'desc' }], fields)).toBeGreaterThan(0);
    const c = { id: 3, name: 'Ann' };
    const d = { id: 4, name: 'ann' };
    expect(compareRows(c, d, [{ field: 'name', dir: 'desc' }], fields)).toBeGreaterThan(0);
  });
});
