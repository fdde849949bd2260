import type { CurrentUser } from '#shared/schemas/auth.js';
import type { Team, User } from '../models/index.js';

export function presentUser(user: User & { team?: Team | null }): CurrentUser {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    status: user.status,
    team: user.team ? { id: user.team.id, name: user.team.name } : null
  };
}
