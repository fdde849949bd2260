import { describe, expect, it } from 'vitest';
import { highlightRanges, trigramSimilarity } from './highlight.js';
import { decodeListState, encodeListState, type ListQuery } from './query.js';

describe('list state in the URL', () => {
  it('round-trips search, nested filters, multi-sort, columns and paging', () => {
    const state: ListQuery = {
      q: 'jonh é 🎉',
      filter: {
        op: 'and',
        rules: [
          { field: 'tier', operator: 'is_any_of', value: ['gold', 'platinum'] },
          {
            op: 'or',
            rules: [
              { field: 'lifetimeSpend', operator: 'between', value: ['10', '99.50'] },
              { field: 'lastOrderAt', operator: 'in_last', value: 30 },
              { field: 'phone', operator: 'is_empty' }
            ]
          }
        ]
      },
      sort: [
        { field: 'lifetimeSpend', dir: 'desc' },
        { field: 'name', dir: 'asc' }
      ],
      columns: ['name', 'email', 'lifetimeSpend'],
      limit: 25,
      ids: [3, 1]
    };
    const params = new URLSearchParams(encodeListState(state).toString());
    const decoded = decodeListState('customers', params);
    expect(decoded.success && decoded.data).toEqual(state);
  });

  it('fills the default sort and limit', () => {
    const decoded = decodeListState('orders', new URLSearchParams());
    expect(decoded.success && decoded.data).toEqual({
      sort: [{ field: 'orderDate', dir: 'desc' }],
      limit: 50
    });
  });

  it.each([
    [
      'unknown field',
      { filter: JSON.stringify({ op: 'and', rules: [{ field: 'password', operator: 'is', value: 'x' }] }) },
      'unknown field'
    ],
    [
      'operator of another type',
      {
        filter: JSON.stringify({ op: 'and', rules: [{ field: 'customerName', operator: 'gt', value: 'x' }] })
      },
      'does not apply'
    ],
    [
      'bad value',
      { filter: JSON.stringify({ op: 'and', rules: [{ field: 'total', operator: 'gt', value: 'lots' }] }) },
      'amount'
    ],
    [
      'enum value not an option',
      {
        filter: JSON.stringify({
          op: 'and',
          rules: [{ field: 'status', operator: 'is_any_of', value: ['lost'] }]
        })
      },
      ''
    ],
    ['not JSON', { filter: '{op:' }, 'JSON'],
    [
      'too deep',
      {
        filter: JSON.stringify({
          op: 'and',
          rules: [{ op: 'or', rules: [{ op: 'and', rules: [{ op: 'or', rules: [] }] }] }]
        })
      },
      'deep'
    ],
    ['unsortable', { sort: 'tags' }, 'cannot sort'],
    ['sorted twice', { sort: 'total,-total' }, 'twice'],
    ['unknown column', { columns: 'name,secret' }, 'unknown column'],
    ['limit too big', { limit: '201' }, ''],
    ['ids not numbers', { ids: '1,x' }, '']
  ])('refuses %s', (_name, params, message) => {
    const decoded = decodeListState('orders', { ...params } as Record<string, string>);
    expect(decoded.success).toBe(false);
    if (!decoded.success && message)
      expect(decoded.error.issues.map((i) => i.message).join(' ')).toContain(message);
  });
});

describe('highlights', () => {
  it('marks every occurrence, case-insensitively, in UTF-16 offsets', () => {
    expect(highlightRanges('Anna Annabelle', 'ann')).toEqual([
      [0, 3],
      [5, 8]
    ]);
    expect(highlightRanges('🎉 Zoë Zoë', 'zoë')).toEqual([
      [3, 6],
      [7, 10]
    ]);
  });

  it('marks the most similar word for a typo', () => {
    expect(trigramSimilarity('jonh', 'john')).toBeGreaterThan(0.1);
    expect(highlightRanges('John Smith', 'jonh')).toEqual([[0, 4]]);
    expect(highlightRanges('Mary Smith', 'qqq')).toEqual([]);
  });
});
