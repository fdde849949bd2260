import { isManagerRole } from '#shared/rules/people.js';
import type { User } from 'lucia';

// Who may do what, object by object. Routes and the socket hub ask these; nothing else decides.

export const isManager = (user: User) => isManagerRole(user.role);

/** Agents work their own team's tickets; managers and admins see every team. */
export function canViewTicket(user: User, ticket: { teamId: number }) {
  return isManager(user) || (user.teamId !== null && user.teamId === ticket.teamId);
}

export const canWorkTicket = canViewTicket;

/** Customer records are shared by the whole support organisation. */
export function canViewCustomer(_user: User) {
  return true;
}
