import type { AgentStatus } from '$shared/enums.js';
import type { AgentAvailability } from '$shared/events.js';
import type { Agent } from '$shared/schemas/tickets.js';

// Agents and their work, as the console, the settings and the wallboard show them.

/** Who is working first: online, busy, away, offline. */
export const AVAILABILITY_RANK: Record<AgentStatus, number> = { online: 0, busy: 1, away: 2, offline: 3 };

export function byAvailability(
  a: { status: AgentStatus; name: string },
  b: { status: AgentStatus; name: string }
) {
  return AVAILABILITY_RANK[a.status] - AVAILABILITY_RANK[b.status] || a.name.localeCompare(b.name);
}

/** An agent after `agent:status_changed`: the event's availability, the open tickets we counted. */
export function withAvailability(known: Agent | undefined, agent: AgentAvailability): Agent {
  return {
    id: agent.id,
    name: agent.name,
    teamId: agent.teamId,
    status: agent.status,
    capacity: agent.capacity,
    openTickets: known?.openTickets ?? 0
  };
}
