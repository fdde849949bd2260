import type { TicketStatus } from '../enums.js';
import type { SlaState } from '../schemas/tickets.js';

// Ticket rules both sides apply. The server builds its SQL from these constants
// (server/services/sql.ts), so a queue filtered in the browser and one read from the database agree.

/** Tickets still being worked: a queue's default, what the agents list and the customer panel count as open. */
export const OPEN_TICKET_STATUSES: readonly TicketStatus[] = ['new', 'open', 'pending'];

export const isOpenWork = (status: TicketStatus) => OPEN_TICKET_STATUSES.includes(status);

/** A clock is at risk in the last quarter of its target window... */
export const AT_RISK_SHARE = 0.25;
/** ...or with less than this left, whichever comes first. */
export const AT_RISK_FLOOR_MINUTES = 30;

/** The clock that is running on a ticket: first response until answered, then resolution; none once resolved. */
export function slaClock(t: {
  status: TicketStatus;
  firstRespondedAt: string | null;
  firstResponseDueAt: string | null;
  resolutionDueAt: string | null;
}) {
  if (t.status === 'resolved' || t.status === 'closed') return null;
  if (!t.firstRespondedAt && t.firstResponseDueAt)
    return { kind: 'first_response' as const, dueAt: t.firstResponseDueAt };
  if (t.resolutionDueAt) return { kind: 'resolution' as const, dueAt: t.resolutionDueAt };
  return null;
}

/** At risk in the last quarter of the target window or under 30 minutes left; breached past due. */
export function slaState(dueAt: string, createdAt: string, now = Date.now()): SlaState {
  const due = Date.parse(dueAt);
  const left = due - now;
  if (left <= 0) return 'breached';
  const window = due - Date.parse(createdAt);
  return left < Math.max(window * AT_RISK_SHARE, 0) || left < AT_RISK_FLOOR_MINUTES * 60_000
    ? 'at_risk'
    : 'ok';
}
