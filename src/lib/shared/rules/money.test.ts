import { describe, expect, it } from 'vitest';
import { formatHundredths, toHundredths } from './money.js';

describe('money in hundredths', () => {
  it('reads NUMERIC text exactly, never through a float', () => {
    expect(toHundredths('129.90')).toBe(12990);
    expect(toHundredths('0.1')).toBe(10);
    expect(toHundredths('-3.05')).toBe(-305);
    expect(toHundredths('1000000.01')).toBe(100000001);
    expect(toHundredths(19.99)).toBe(1999);
  });

  it('refuses what is not a decimal', () => {
    for (const bad of ['', 'abc', '1e5', '1.2.3']) expect(() => toHundredths(bad)).toThrow();
  });

  it('prints two places, sign included, and round-trips', () => {
    expect(formatHundredths(12990)).toBe('129.90');
    expect(formatHundredths(-305)).toBe('-3.05');
    expect(formatHundredths(5)).toBe('0.05');
    for (const text of ['0.00', '7.10', '123456.78', '-0.99'])
      expect(formatHundredths(toHundredths(text))).toBe(text);
  });
});
