/**
 * The statistics of a campaign's lift: treatment against its own holdout.
 *
 * - Revenue (or points) per member: Welch's t-interval for the difference of two means. It does not
 *   assume equal variances (a campaign's treatment group is usually larger and spends more unevenly
 *   than its holdout) and needs only each group's count, mean and variance, which SQL computes.
 * - Conversion (share of members who ordered): Newcombe's hybrid score interval (method 10 of
 *   Newcombe 1998) for the difference of two proportions, built from each group's Wilson interval.
 *   It stays inside [-1, 1] and behaves at 0 or 100 % conversion, where the normal approximation
 *   collapses to a zero-width interval.
 *
 * Everything is pure and browser-safe; `lift.test.ts` checks it against textbook values.
 */

/** A group's count, mean and sample variance (n - 1 denominator). */
export interface GroupMoments {
  n: number;
  mean: number;
  variance: number;
}

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

export interface WelchInterval extends Interval {
  standardError: number;
  degreesOfFreedom: number;
}

/** Count, mean and sample variance of a list of values. */
export function moments(values: readonly number[]): GroupMoments {
  const n = values.length;
  if (n === 0) return { n: 0, mean: 0, variance: 0 };
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const variance = n < 2 ? 0 : values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
  return { n, mean, variance };
}

// ---- Student's t distribution ----------------------------------------------------------------

/** ln Γ(x), Lanczos approximation (g = 7, n = 9): ~15 significant digits for x > 0. */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let a = c[0];
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2)
    ? (front * betaContinuedFraction(a, b, x)) / a
    : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(T <= t) for Student's t with `df` degrees of freedom (df may be fractional, as Welch's is). */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The t with P(T <= t) = p (bisection on the CDF: exact to ~1e-12, and fast enough for a report). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError('p must be inside (0, 1)');
  if (p === 0.5) return 0;
  let low = -1;
  let high = 1;
  while (studentTCdf(low, df) > p) low *= 2;
  while (studentTCdf(high, df) < p) high *= 2;
  for (let i = 0; i < 200 && high - low > 1e-12; i++) {
    const mid = (low + high) / 2;
    if (studentTCdf(mid, df) < p) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

/** The standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError('p must be inside (0, 1)');
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lowTail = 0.02425;
  if (p < lowTail) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    );
  }
  if (p > 1 - lowTail) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

// ---- Intervals ---------------------------------------------------------------------------------

/**
 * Welch's interval for mean(treatment) - mean(holdout). Null when a group has fewer than two
 * members (no variance to estimate). With both variances 0 the interval is the point itself.
 */
export function welchInterval(
  treatment: GroupMoments,
  holdout: GroupMoments,
  confidence = 0.95
): WelchInterval | null {
  if (treatment.n < 2 || holdout.n < 2) return null;
  const vt = treatment.variance / treatment.n;
  const vh = holdout.variance / holdout.n;
  const estimate = treatment.mean - holdout.mean;
  const standardError = Math.sqrt(vt + vh);
  if (standardError === 0)
    return { estimate, low: estimate, high: estimate, standardError, degreesOfFreedom: Infinity };
  // Welch–Satterthwaite degrees of freedom.
  const degreesOfFreedom = (vt + vh) ** 2 / (vt ** 2 / (treatment.n - 1) + vh ** 2 / (holdout.n - 1));
  const t = studentTQuantile(1 - (1 - confidence) / 2, degreesOfFreedom);
  return {
    estimate,
    low: estimate - t * standardError,
    high: estimate + t * standardError,
    standardError,
    degreesOfFreedom
  };
}

/** Wilson's score interval for a proportion `successes / n` (null when n is 0). */
export function wilsonInterval(successes: number, n: number, confidence = 0.95): Interval | null {
  if (n <= 0) return null;
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return { estimate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/**
 * Newcombe's hybrid score interval for p1 - p2 (successes1 / n1 - successes2 / n2), method 10 of
 * Newcombe, "Interval estimation for the difference between independent proportions" (1998).
 */
export function newcombeInterval(
  successes1: number,
  n1: number,
  successes2: number,
  n2: number,
  confidence = 0.95
): Interval | null {
  const w1 = wilsonInterval(successes1, n1, confidence);
  const w2 = wilsonInterval(successes2, n2, confidence);
  if (!w1 || !w2) return null;
  const p1 = w1.estimate;
  const p2 = w2.estimate;
  const estimate = p1 - p2;
  const low = estimate - Math.sqrt((p1 - w1.low) ** 2 + (w2.high - p2) ** 2);
  const high = estimate + Math.sqrt((w1.high - p1) ** 2 + (p2 - w2.low) ** 2);
  return { estimate, low, high };
}

/** Whether an interval lies entirely on one side of zero (the lift is significant at its level). */
export const excludesZero = (interval: Interval | null): boolean =>
  !!interval && (interval.low > 0 || interval.high < 0);
