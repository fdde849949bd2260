import type { TicketSummary } from '$shared/schemas/live.js';
import { slaClock, slaState } from '$shared/rules/tickets.js';
import type { SlaState } from '$shared/schemas/tickets.js';
import { formatDateTime } from '$lib/format.js';
import { formatCountdown } from './format.js';

type SlaFields = Pick<
  TicketSummary,
  'status' | 'firstRespondedAt' | 'firstResponseDueAt' | 'resolutionDueAt' | 'createdAt'
>;

export interface SlaView {
  kind: 'first_response' | 'resolution';
  dueAt: string;
  state: SlaState;
  /** Milliseconds left; negative once breached. */
  remainingMs: number;
  /** "42:10", "3h 05m", "12m over". */
  text: string;
  /** A sentence for tooltips and screen readers. */
  description: string;
}

const KIND_LABEL = { first_response: 'First response', resolution: 'Resolution' } as const;

/** The clock a ticket is on right now and how it stands, or null when no SLA runs. */
export function slaView(ticket: SlaFields, now: number): SlaView | null {
  const clock = slaClock(ticket);
  if (!clock) return null;
  const remainingMs = Date.parse(clock.dueAt) - now;
  const state = slaState(clock.dueAt, ticket.createdAt, now);
  const time = formatCountdown(remainingMs);
  const due = formatDateTime(clock.dueAt);
  const label = KIND_LABEL[clock.kind];
  return {
    kind: clock.kind,
    dueAt: clock.dueAt,
    state,
    remainingMs,
    text: remainingMs <= 0 ? `${time} over` : time,
    description:
      remainingMs <= 0
        ? `${label} SLA breached ${time} ago (was due ${due})`
        : `${label} due in ${time} (${due})${state === 'at_risk' ? ', at risk' : ''}`
  };
}

/** Most urgent first: the running clock's due time, tickets without a clock last. */
export function compareByUrgency(a: SlaFields & { id: number }, b: SlaFields & { id: number }): number {
  const dueA = slaClock(a)?.dueAt;
  const dueB = slaClock(b)?.dueAt;
  if (dueA && dueB && dueA !== dueB) return Date.parse(dueA) - Date.parse(dueB);
  if (dueA && !dueB) return -1;
  if (!dueA && dueB) return 1;
  return a.id - b.id;
}
