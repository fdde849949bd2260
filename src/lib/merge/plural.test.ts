import { describe, expect, it } from 'vitest';
import { countOf } from './plural.js';

describe('countOf', () => {
  it('says one in the singular and any other number in the plural', () => {
    expect(countOf(1, 'order')).toBe('1 order');
    expect(countOf(0, 'ticket')).toBe('0 tickets');
    expect(countOf(2, 'entry', 'entries')).toBe('2 entries');
  });
});
