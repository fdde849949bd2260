import { describe, expect, it } from 'vitest';
import { slaClock, slaState } from './tickets.js';

const H = 3_600_000;
const created = '2026-12-01T00:00:00.000Z';
const at = (ms: number) => new Date(Date.parse(created) + ms).toISOString();

describe('SLA clocks', () => {
  it('run on first response until answered, then on resolution; stop when resolved', () => {
    const t = {
      status: 'open' as const,
      firstRespondedAt: null,
      firstResponseDueAt: at(4 * H),
      resolutionDueAt: at(24 * H)
    };
    expect(slaClock(t)).toEqual({ kind: 'first_response', dueAt: at(4 * H) });
    expect(slaClock({ ...t, firstRespondedAt: at(H) })).toEqual({ kind: 'resolution', dueAt: at(24 * H) });
    expect(slaClock({ ...t, status: 'resolved' })).toBeNull();
  });

  it('are at risk in the last quarter of the window or under 30 minutes, breached past due', () => {
    const due = at(8 * H);
    const now = (ms: number) => Date.parse(created) + ms;
    expect(slaState(due, created, now(5 * H))).toBe('ok');
    expect(slaState(due, created, now(6 * H + 1))).toBe('at_risk');
    expect(slaState(at(H), created, now(31 * 60_000))).toBe('at_risk');
    expect(slaState(due, created, now(8 * H))).toBe('breached');
  });
});
