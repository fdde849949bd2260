import { byAvailability, withAvailability } from '$lib/agents.js';
import { ApiError } from '$lib/api.js';
import { liveClient } from '$lib/live/live-client.js';
import type { AgentStatus } from '$shared/enums.js';
import type { CurrentUser } from '$shared/schemas/auth.js';
import type { Agent } from '$shared/schemas/tickets.js';
import { SvelteMap } from 'svelte/reactivity';
import { consoleApi } from './api.js';

export const STATUS_LOOK: Record<AgentStatus, { label: string; hint: string }> = {
  online: { label: 'Online', hint: 'Available: new tickets can be routed to you' },
  busy: { label: 'Busy', hint: 'Working, but no new tickets are routed to you' },
  away: { label: 'Away', hint: 'Away from the desk' },
  offline: { label: 'Offline', hint: 'Signed off for the day' }
};

/**
 * The agents the console knows about (for the assign menu, authors and the header's availability
 * switch), kept live from `agent:status_changed`.
 */
class Agents {
  #byId = new SvelteMap<number, Agent>();
  #loadedTeams = new Set<string>();
  /** My own availability, as the server last confirmed it. */
  myStatus = $state<AgentStatus | null>(null);
  savingStatus = $state(false);
  #me: CurrentUser | null = null;
  #subscribers = 0;
  #off: (() => void) | null = null;

  get(id: number): Agent | undefined {
    return this.#byId.get(id);
  }

  forTeam(teamId: number | null): Agent[] {
    return [...this.#byId.values()]
      .filter((a) => teamId === null || a.teamId === teamId)
      .sort(byAvailability);
  }

  /** Loads a team's agents once (all agents when `teamId` is null); call again with `force` to refresh. */
  async ensure(me: CurrentUser, teamId: number | null, force = false) {
    this.#me = me;
    const key = String(teamId);
    if (this.#loadedTeams.has(key) && !force) return;
    this.#loadedTeams.add(key);
    try {
      const { agents } = await consoleApi.agents(teamId);
      for (const agent of agents) this.#byId.set(agent.id, agent);
      const mine = this.#byId.get(me.id);
      if (mine) this.myStatus = mine.status;
    } catch (err) {
      this.#loadedTeams.delete(key);
      if (!(err instanceof ApiError)) throw err;
    }
  }

  async setMyStatus(status: AgentStatus) {
    const previous = this.myStatus;
    this.myStatus = status;
    this.savingStatus = true;
    try {
      const answer = await consoleApi.setMyStatus(status);
      this.myStatus = answer.status;
      const me = this.#me && this.#byId.get(this.#me.id);
      if (me) this.#byId.set(me.id, { ...me, status: answer.status });
    } catch (err) {
      this.myStatus = previous;
      throw err;
    } finally {
      this.savingStatus = false;
    }
  }

  /** Follows availability changes while a console screen is open. */
  listen(): () => void {
    if (this.#subscribers++ === 0) {
      this.#off = liveClient.on('agent:status_changed', ({ agent }) => {
        this.#byId.set(agent.id, withAvailability(this.#byId.get(agent.id), agent));
        if (agent.id === this.#me?.id && !this.savingStatus) this.myStatus = agent.status;
      });
    }
    return () => {
      if (--this.#subscribers === 0) {
        this.#off?.();
        this.#off = null;
      }
    };
  }
}

export const agents = new Agents();
