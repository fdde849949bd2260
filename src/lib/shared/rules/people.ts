import type { UserRole } from '../enums.js';

/** Managers and admins see every team, the wallboard and analytics; agents see their team's work. */
export const isManagerRole = (role: UserRole) => role === 'manager' || role === 'admin';
