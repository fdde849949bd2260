import { describe, expect, it } from 'vitest';
import { covers, formatPosition, isBefore, laterOf, parsePosition } from './stream-position.js';

const p = (text: string) => parsePosition(text)!;

describe('stream positions', () => {
  it('parse what pg_current_snapshot() prints, and print it back', () => {
    for (const text of ['5:5:', '10:20:10,12,19', '0:0:']) expect(formatPosition(p(text))).toBe(text);
  });

  it('refuse anything else, without throwing', () => {
    for (const bad of [
      undefined,
      null,
      12,
      '',
      '12',
      'a:b:c',
      '5:3:',
      '1:9:12',
      '1:9:0',
      '1:9:1,,2',
      `${'9'.repeat(20)}:1:`,
      '1:2:3:4',
      ' 1:2:'
    ]) {
      expect(parsePosition(bad)).toBeNull();
    }
  });

  it('put a transaction before a position when it had ended then', () => {
    const at = p('10:20:12,15');
    expect([9n, 10n, 11n, 13n, 19n].map((x) => isBefore(x, at))).toEqual([true, true, true, true, true]);
    expect([12n, 15n, 20n, 25n].map((x) => isBefore(x, at))).toEqual([false, false, false, false]);
  });

  it('order positions taken one after the other', () => {
    const first = p('10:20:12,15');
    const second = p('12:22:12,21');
    expect(covers(second, first)).toBe(true);
    expect(covers(first, second)).toBe(false);
    expect(laterOf(first, second)).toBe(second);
    expect(laterOf(second, first)).toBe(second);
    expect(covers(first, first)).toBe(true);
    // 15 ended between the two; a position where it still runs does not cover one where it ended.
    expect(covers(p('10:20:12,15'), p('10:20:12'))).toBe(false);
  });
});
