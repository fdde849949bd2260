import { byAvailability, withAvailability } from '$lib/agents.js';
import { isOpenWork } from '$shared/rules/tickets.js';
import { ApiError, messageOf } from '$lib/api.js';
import { liveClient } from '$lib/live/live-client.js';
import type { TicketStatus } from '$shared/enums.js';
import type { Team } from '$shared/schemas/people.js';
import type { Agent } from '$shared/schemas/tickets.js';
import { SvelteMap } from 'svelte/reactivity';
import { settingsApi } from './api.js';

const byName = (a: Team, b: Team) => a.name.localeCompare(b.name);

/** Who can take a round-robin ticket right now: online and under capacity. */
export const canTakeTickets = (a: Agent) => a.status === 'online' && a.openTickets < a.capacity;

/**
 * The teams panel: teams with their auto-assign switch, and each team's agents with live
 * availability (`agent:status_changed`) and open tickets (kept from ticket changes).
 */
export class TeamsSettings {
  teams = $state<Team[]>([]);
  loading = $state(true);
  loadError = $state<string | null>(null);
  /** Teams with a change in flight. */
  busy = $state<Record<number, boolean>>({});
  /** The last failed change per team, shown on its card until the next try. */
  errors = $state<Record<number, string>>({});
  #agents = new SvelteMap<number, Agent>();

  agentsOf(teamId: number): Agent[] {
    return [...this.#agents.values()].filter((a) => a.teamId === teamId).sort(byAvailability);
  }

  /** Loads teams and agents; false when it could not. */
  async load(): Promise<boolean> {
    this.loadError = null;
    try {
      const [{ teams }, { agents }] = await Promise.all([settingsApi.teams(), settingsApi.agents()]);
      this.teams = teams.sort(byName);
      this.#agents.clear();
      for (const agent of agents) this.#agents.set(agent.id, agent);
      return true;
    } catch (err) {
      this.loadError = messageOf(err, 'Teams did not load.');
      return false;
    } finally {
      this.loading = false;
    }
  }

  /** Turns round-robin assignment on or off; the switch moves at once and moves back on failure. */
  async setAutoAssign(team: Team, on: boolean) {
    this.#put({ ...team, autoAssign: on });
    this.#setBusy(team.id, true);
    this.clearError(team.id);
    try {
      this.#put((await settingsApi.updateTeam(team.id, { autoAssign: on })).team);
    } catch (err) {
      this.#put(team);
      this.errors = { ...this.errors, [team.id]: `Not saved: ${messageOf(err, 'something went wrong.')}` };
      if (!(err instanceof ApiError)) throw err;
    } finally {
      this.#setBusy(team.id, false);
    }
  }

  /** Renames a team; throws ApiError (409 when another team has the name) for the form to show. */
  async rename(team: Team, name: string) {
    const trimmed = name.trim();
    if (trimmed === team.name) return;
    this.#setBusy(team.id, true);
    try {
      const { team: saved } = await settingsApi.updateTeam(team.id, { name: trimmed });
      this.#put(saved);
    } finally {
      this.#setBusy(team.id, false);
    }
  }

  async create(name: string): Promise<Team> {
    const { team } = await settingsApi.createTeam(name.trim());
    this.#put(team);
    return team;
  }

  clearError(teamId: number) {
    if (!(teamId in this.errors)) return;
    const rest = { ...this.errors };
    delete rest[teamId];
    this.errors = rest;
  }

  /** Follows availability and ticket changes while the screen is open; returns the teardown. */
  listen(): () => void {
    const offs = [
      liveClient.on('agent:status_changed', ({ agent }) => {
        const known = this.#agents.get(agent.id);
        if (known && known.teamId !== agent.teamId) void this.#refreshTeams();
        this.#agents.set(agent.id, withAvailability(known, agent));
      }),
      liveClient.on('ticket:created', ({ data }) => this.#count(data.assigneeId, data.status, 1)),
      liveClient.on('ticket:updated', ({ data, old }) => {
        if (!old || !('assigneeId' in old || 'status' in old)) return;
        this.#count(
          old.assigneeId !== undefined ? old.assigneeId : data.assigneeId,
          old.status ?? data.status,
          -1
        );
        this.#count(data.assigneeId, data.status, 1);
      }),
      liveClient.onResync(async () => {
        if (!(await this.load())) throw new Error('teams reload failed');
      })
    ];
    return () => offs.forEach((off) => off());
  }

  #count(assigneeId: number | null, status: TicketStatus, delta: 1 | -1) {
    if (assigneeId === null || !isOpenWork(status)) return;
    const agent = this.#agents.get(assigneeId);
    if (agent)
      this.#agents.set(assigneeId, { ...agent, openTickets: Math.max(0, agent.openTickets + delta) });
  }

  /** Member counts moved (an agent changed team). */
  async #refreshTeams() {
    try {
      this.teams = (await settingsApi.teams()).teams.sort(byName);
    } catch {
      // The next change or a reload catches up.
    }
  }

  #put(team: Team) {
    const others = this.teams.filter((t) => t.id !== team.id);
    this.teams = [...others, team].sort(byName);
  }

  #setBusy(teamId: number, on: boolean) {
    this.busy = { ...this.busy, [teamId]: on };
  }
}
