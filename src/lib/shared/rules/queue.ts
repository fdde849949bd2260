import type { TicketSummary } from '../schemas/live.js';
import type { QueueView, SlaState } from '../schemas/tickets.js';
import type { TicketChannel, TicketPriority, TicketStatus, UserRole } from '../enums.js';
import { isManagerRole } from './people.js';
import { OPEN_TICKET_STATUSES, slaClock, slaState } from './tickets.js';

/** A queue's filters, as the console holds them. */
export interface QueueFilterState {
  status: readonly TicketStatus[];
  priority: readonly TicketPriority[];
  channel: readonly TicketChannel[];
  sla: readonly SlaState[];
  tag: string;
  q: string;
}

/**
 * Whether a ticket belongs in a queue view under these filters: the rule the console applies to a
 * live change, and the one the server's `listQueue` SQL implements (tests/integration/queue-rules
 * checks both against one table of tickets). Without the customer, a text search cannot be
 * decided and counts as a match (the console fetches the row and decides then).
 */
export function inQueue(
  t: TicketSummary,
  q: {
    view: QueueView;
    filters: QueueFilterState;
    user: { id: number; role: UserRole; team: { id: number } | null };
    customer?: { name: string; email: string };
    now?: number;
  }
): boolean {
  const { user: me, filters: f } = q;
  const isManager = isManagerRole(me.role);
  switch (q.view) {
    case 'mine':
      if (t.assigneeId !== me.id) return false;
      break;
    case 'unassigned':
      if (t.assigneeId !== null || (!isManager && t.teamId !== me.team?.id)) return false;
      break;
    case 'team':
      if (me.team && t.teamId !== me.team.id) return false;
      break;
    case 'all':
      break;
  }
  // No status filter means open work (the server's default too).
  if (!(f.status.length ? f.status : OPEN_TICKET_STATUSES).includes(t.status)) return false;
  if (f.priority.length && !f.priority.includes(t.priority)) return false;
  if (f.channel.length && !f.channel.includes(t.channel)) return false;
  if (f.tag.trim() && !t.tags.includes(f.tag.trim().toLowerCase())) return false;
  if (f.sla.length) {
    // A ticket with no clock running (resolved, or no target) is not at risk: it counts as ok.
    const clock = slaClock(t);
    if (!f.sla.includes(clock ? slaState(clock.dueAt, t.createdAt, q.now) : 'ok')) return false;
  }
  const text = f.q.trim().toLowerCase();
  if (text) {
    const number = /^#?(\d+)$/.exec(text);
    if (number) return t.id === Number(number[1]);
    if (!q.customer) return true;
    const haystack = `${t.subject} ${q.customer.name} ${q.customer.email}`.toLowerCase();
    if (!haystack.includes(text)) return false;
  }
  return true;
}
