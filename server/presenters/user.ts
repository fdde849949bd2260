import type { AgentStatus, UserRole } from '#shared/enums.js';
import type { CurrentUser } from '#shared/schemas/auth.js';

/** A user as services read them for sign-in and `/me`: with their team, if any. */
export interface UserWithTeam {
  id: number;
  email: string;
  name: string;
  role: UserRole;
  status: AgentStatus;
  team: { id: number; name: string } | null;
}

export function presentUser(user: UserWithTeam): CurrentUser {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    status: user.status,
    team: user.team ? { id: user.team.id, name: user.team.name } : null
  };
}
