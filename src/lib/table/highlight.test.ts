import { describe, expect, it } from 'vitest';
import { highlightPieces } from './highlight.js';

const join = (pieces: { text: string }[]) => pieces.map((p) => p.text).join('');

describe('highlightPieces', () => {
  it('marks the ranges and keeps the text whole', () => {
    const pieces = highlightPieces('Ada Lovelace', [[4, 8]]);
    expect(pieces).toEqual([
      { text: 'Ada ', match: false },
      { text: 'Love', match: true },
      { text: 'lace', match: false }
    ]);
  });

  it('merges overlapping and unsorted ranges, clamps ranges past the end', () => {
    const pieces = highlightPieces('abcdefgh', [
      [5, 50],
      [0, 2],
      [1, 3]
    ]);
    expect(pieces.filter((p) => p.match).map((p) => p.text)).toEqual(['abc', 'fgh']);
    expect(join(pieces)).toBe('abcdefgh');
  });

  it('ignores empty and inverted ranges; no ranges is one plain piece', () => {
    expect(
      highlightPieces('abc', [
        [2, 1],
        [1, 1]
      ])
    ).toEqual([{ text: 'abc', match: false }]);
    expect(highlightPieces('abc', undefined)).toEqual([{ text: 'abc', match: false }]);
    expect(highlightPieces('', [[0, 3]])).toEqual([]);
  });
});
