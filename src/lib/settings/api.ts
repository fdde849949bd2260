import { api, ApiError, unwrap } from '$lib/api.js';
import { peopleApi } from '$lib/people-api.js';
import { authed as call } from '$lib/session.svelte.js';
import type { UserRole } from '$shared/enums.js';
import type { AdminUser, Team } from '$shared/schemas/people.js';
import type { SlaPolicy } from '$shared/schemas/tickets.js';

// The support-settings and admin screens' calls, through the typed client.

const id = (n: number) => ({ id: String(n) });

export interface NewUser {
  email: string;
  name: string;
  role: UserRole;
  teamId: number | null;
  password: string;
}

export type UserChanges = Partial<Pick<AdminUser, 'name' | 'role' | 'teamId' | 'active'>>;

export const settingsApi = {
  slaPolicies: (): Promise<{ policies: SlaPolicy[] }> => call(unwrap(api.api['sla-policies'].$get())),
  saveSlaPolicies: (policies: SlaPolicy[]): Promise<{ policies: SlaPolicy[] }> =>
    call(unwrap(api.api['sla-policies'].$put({ json: { policies } }))),
  teams: peopleApi.teams,
  createTeam: (name: string): Promise<{ team: Team }> =>
    call(unwrap(api.api.teams.$post({ json: { name } }))),
  updateTeam: (teamId: number, changes: { name?: string; autoAssign?: boolean }): Promise<{ team: Team }> =>
    call(unwrap(api.api.teams[':id'].$patch({ param: id(teamId), json: changes }))),
  /** Every active agent (managers see all teams), with availability and open tickets. */
  agents: (): ReturnType<typeof peopleApi.agents> => peopleApi.agents(),
  users: (): Promise<{ users: AdminUser[] }> => call(unwrap(api.api.users.$get())),
  createUser: (input: NewUser): Promise<{ user: AdminUser }> =>
    call(unwrap(api.api.users.$post({ json: input }))),
  updateUser: (userId: number, changes: UserChanges): Promise<{ user: AdminUser }> =>
    call(unwrap(api.api.users[':id'].$patch({ param: id(userId), json: changes })))
};

/** The constraint a 409/422 from the database names, when it names one. */
export function constraintOf(err: unknown): string | null {
  if (!(err instanceof ApiError)) return null;
  const constraint = (err.details as { constraint?: unknown } | undefined)?.constraint;
  return typeof constraint === 'string' ? constraint : null;
}
