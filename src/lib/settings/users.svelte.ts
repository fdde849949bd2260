import { ApiError, messageOf } from '$lib/api.js';
import type { UserRole } from '$shared/enums.js';
import type { AdminUser, Team } from '$shared/schemas/people.js';
import { constraintOf, settingsApi, type NewUser, type UserChanges } from './api.js';

export type UserFilter = 'active' | 'deactivated' | 'all';

/** Form fields a failed request can point at. */
export type UserField = 'email' | 'name' | 'role' | 'teamId' | 'password' | 'form';
export type UserProblems = Partial<Record<UserField, string>>;

export const ROLE_HINT: Record<UserRole, string> = {
  agent: 'Works a team’s queue',
  manager: 'Every team, wallboard, analytics and support settings',
  admin: 'Everything, including users'
};

const byName = (a: AdminUser, b: AdminUser) => a.name.localeCompare(b.name);

/** What a form checks before asking the server (the server checks the same). */
export function checkUser(input: {
  name: string;
  email?: string;
  role: UserRole;
  teamId: number | null;
  password?: string;
}): UserProblems {
  const out: UserProblems = {};
  if (!input.name.trim()) out.name = 'Enter a name';
  if (input.email !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(input.email.trim()))
    out.email = 'Enter an email address';
  if (input.role === 'agent' && input.teamId === null) out.teamId = 'An agent needs a team';
  if (input.password !== undefined && input.password.length < 8) out.password = 'At least 8 characters';
  return out;
}

/**
 * A failed create or update, mapped onto the form: 409 is the email, 400 names its fields,
 * 422 is a rule (an agent without a team, locking yourself out).
 */
export function problemsOf(err: unknown): UserProblems {
  if (!(err instanceof ApiError)) return { form: 'Something went wrong. Try again.' };
  if (err.code === 'conflict') return { email: 'Someone already uses this email address' };
  if (constraintOf(err) === 'users_agent_has_team') return { teamId: 'An agent needs a team' };
  const fields = err.fieldErrors;
  const out: UserProblems = {};
  for (const key of ['email', 'name', 'role', 'teamId', 'password'] as const) {
    if (fields[key]) out[key] = capitalise(fields[key]);
  }
  if (Object.keys(out).length === 0) out.form = messageOf(err, 'Not saved.');
  return out;
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The users table: everyone, filtered in the browser (a support team is dozens of people, not thousands). */
export class UsersAdmin {
  users = $state<AdminUser[]>([]);
  teams = $state<Team[]>([]);
  loading = $state(true);
  loadError = $state<string | null>(null);
  query = $state('');
  filter = $state<UserFilter>('active');

  readonly counts = $derived({
    active: this.users.filter((u) => u.active).length,
    deactivated: this.users.filter((u) => !u.active).length,
    all: this.users.length
  });

  readonly visible = $derived.by(() => {
    const q = this.query.trim().toLowerCase();
    return this.users.filter(
      (u) =>
        (this.filter === 'all' || u.active === (this.filter === 'active')) &&
        (!q ||
          u.name.toLowerCase().includes(q) ||
          u.email.includes(q) ||
          (this.teamName(u.teamId) ?? '').toLowerCase().includes(q))
    );
  });

  teamName(teamId: number | null): string | null {
    return teamId === null ? null : (this.teams.find((t) => t.id === teamId)?.name ?? `Team ${teamId}`);
  }

  async load() {
    this.loadError = null;
    try {
      const [{ users }, { teams }] = await Promise.all([settingsApi.users(), settingsApi.teams()]);
      this.users = users.sort(byName);
      this.teams = teams.sort((a, b) => a.name.localeCompare(b.name));
    } catch (err) {
      this.loadError = messageOf(err, 'Users did not load.');
    } finally {
      this.loading = false;
    }
  }

  /** Throws ApiError for the form to map with `problemsOf`. */
  async create(input: NewUser): Promise<AdminUser> {
    const { user } = await settingsApi.createUser(input);
    this.#put(user);
    return user;
  }

  /** Throws ApiError for the row to map with `problemsOf`. */
  async update(userId: number, changes: UserChanges): Promise<AdminUser> {
    const { user } = await settingsApi.updateUser(userId, changes);
    this.#put(user);
    return user;
  }

  #put(user: AdminUser) {
    this.users = [...this.users.filter((u) => u.id !== user.id), user].sort(byName);
  }
}
