import { api, queryOf, unwrap } from '$lib/api.js';
import { authed } from '$lib/session.svelte.js';
import type { Team } from '$shared/schemas/people.js';
import type { Agent } from '$shared/schemas/tickets.js';

// Calls more than one screen makes: the teams, and the agents with availability and open tickets.

export const peopleApi = {
  teams: (): Promise<{ teams: Team[] }> => authed(unwrap(api.api.teams.$get())),
  /** Active agents, of one team or (managers) of all. */
  agents: (teamId?: number | null): Promise<{ agents: Agent[] }> =>
    authed(unwrap(api.api.agents.$get({ query: queryOf({ teamId }) })))
};
