/**
 * A token bucket per socket for client events: `perSecond` sustained, `burst` at once.
 * `take()` says whether this event may run.
 */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  overruns = 0;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number
  ) {
    this.tokens = burst;
  }

  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.overruns += 1;
    return false;
  }
}
