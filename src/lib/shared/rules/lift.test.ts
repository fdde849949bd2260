import { describe, expect, it } from 'vitest';
import {
  excludesZero,
  incompleteBeta,
  moments,
  newcombeInterval,
  normalQuantile,
  studentTCdf,
  studentTQuantile,
  welchInterval,
  wilsonInterval
} from './lift.js';

describe('distributions', () => {
  it('matches tabulated t quantiles, integer and fractional degrees of freedom', () => {
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.7062047, 6);
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.2281389, 6);
    expect(studentTQuantile(0.975, 30)).toBeCloseTo(2.0422725, 6);
    expect(studentTQuantile(0.975, 3.5)).toBeCloseTo(2.9400886, 6);
    expect(studentTQuantile(0.025, 10)).toBeCloseTo(-2.2281389, 6);
    // Many degrees of freedom: the normal's 1.96.
    expect(studentTQuantile(0.975, 1e6)).toBeCloseTo(1.959966, 5);
  });

  it('matches the t CDF and the incomplete beta function', () => {
    expect(studentTCdf(-2.455356398286006, 24.988529290231416)).toBeCloseTo(0.010689000731, 9);
    expect(studentTCdf(0, 7)).toBeCloseTo(0.5, 12);
    expect(incompleteBeta(0.4, 2, 3)).toBeCloseTo(0.5248, 12);
  });

  it('matches normal quantiles', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 6);
    expect(normalQuantile(0.995)).toBeCloseTo(2.5758293, 6);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.3263479, 6);
    expect(() => normalQuantile(1)).toThrow(RangeError);
  });
});

describe("Welch's interval", () => {
  // The worked example of Wikipedia's "Welch's t-test" (A1 vs A2): t = -2.46, df = 24.99, p = 0.021.
  const a1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4];
  const a2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4];

  it('reproduces the textbook example (R: t.test(A1, A2) = -3.984 .. -0.349)', () => {
    const w = welchInterval(moments(a1), moments(a2))!;
    expect(w.estimate / w.standardError).toBeCloseTo(-2.455356, 5);
    expect(w.degreesOfFreedom).toBeCloseTo(24.98853, 4);
    expect(w.low).toBeCloseTo(-3.984096, 5);
    expect(w.high).toBeCloseTo(-0.349237, 5);
    expect(excludesZero(w)).toBe(true);
  });

  it('contains zero when the groups are alike, and needs two members a group', () => {
    const w = welchInterval(moments([1, 2, 3, 4]), moments([1.5, 2.5, 3.5]))!;
    expect(w.low).toBeLessThan(0);
    expect(w.high).toBeGreaterThan(0);
    expect(excludesZero(w)).toBe(false);
    expect(welchInterval(moments([1]), moments([1, 2]))).toBeNull();
  });

  it('is the point itself when nobody varies', () => {
    const w = welchInterval(moments([5, 5, 5]), moments([2, 2]))!;
    expect([w.estimate, w.low, w.high]).toEqual([3, 3, 3]);
  });
});

describe('proportions', () => {
  it("reproduces Newcombe's (1998) Wilson example: 81/263 -> 0.2553 .. 0.3662", () => {
    const w = wilsonInterval(81, 263)!;
    expect(w.low).toBeCloseTo(0.2553, 4);
    expect(w.high).toBeCloseTo(0.3662, 4);
    expect(wilsonInterval(0, 0)).toBeNull();
    // At 0 % the interval still has width (the normal approximation would say 0 .. 0).
    expect(wilsonInterval(0, 20)!.high).toBeGreaterThan(0.1);
  });

  it("reproduces Newcombe's (1998) hybrid score examples (method 10)", () => {
    // Table II, example (a): 56/70 - 48/80 = 0.2, 95 % CI 0.0524 .. 0.3339.
    const a = newcombeInterval(56, 70, 48, 80)!;
    expect(a.estimate).toBeCloseTo(0.2, 12);
    expect(a.low).toBeCloseTo(0.0524, 4);
    expect(a.high).toBeCloseTo(0.3339, 4);
    // Example (c): 5/56 - 0/29 = 0.0893, 95 % CI -0.0381 .. 0.1926.
    const c = newcombeInterval(5, 56, 0, 29)!;
    expect(c.low).toBeCloseTo(-0.0381, 4);
    expect(c.high).toBeCloseTo(0.1926, 4);
    expect(newcombeInterval(1, 0, 1, 2)).toBeNull();
  });
});
