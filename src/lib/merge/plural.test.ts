import { describe, expect, it } from 'vitest';
import { countOf, movedSentence } from './plural.js';

describe('countOf', () => {
  it('says one in the singular and any other number in the plural', () => {
    expect(countOf(1, 'order')).toBe('1 order');
    expect(countOf(0, 'ticket')).toBe('0 tickets');
    expect(countOf(2, 'entry', 'entries')).toBe('2 entries');
  });
});

describe('movedSentence', () => {
  it('says what moved, and the repeated bonus points taken back when there were any', () => {
    expect(movedSentence({ orders: 1, tickets: 0, points: 750, bonusPointsTakenBack: 40 })).toBe(
      '1 order, 0 tickets and 750 points moved here (40 repeated bonus points taken back).'
    );
    expect(movedSentence({ orders: 2, tickets: 1, points: 1, bonusPointsTakenBack: 0 })).toBe(
      '2 orders, 1 ticket and 1 point moved here.'
    );
    expect(movedSentence({ orders: 0, tickets: 0, points: 0 })).toBe(
      '0 orders, 0 tickets and 0 points moved here.'
    );
  });
});
