import { describe, expect, it } from 'vitest';
import { stockState } from './stock.js';

describe('stockState', () => {
  it('is out at zero, low up to and at the threshold, in stock above', () => {
    expect(stockState(0, 5)).toBe('out');
    expect(stockState(1, 5)).toBe('low');
    expect(stockState(5, 5)).toBe('low');
    expect(stockState(6, 5)).toBe('in_stock');
    expect(stockState(1, 0)).toBe('in_stock');
  });
});
