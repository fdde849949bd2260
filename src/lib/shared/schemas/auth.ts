import { z } from 'zod';
import { AGENT_STATUSES, USER_ROLES } from '../enums.js';

export const LoginBody = z.object({
  email: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.email({ error: 'must be an email address' }))
    .pipe(z.string().max(254)),
  password: z.string().min(1, { error: 'is required' }).max(1024)
});
export type LoginBody = z.infer<typeof LoginBody>;

export const CurrentUser = z.object({
  id: z.number().int(),
  email: z.string(),
  name: z.string(),
  role: z.enum(USER_ROLES),
  /** Availability for ticket routing (online, busy, away, offline). */
  status: z.enum(AGENT_STATUSES),
  team: z.object({ id: z.number().int(), name: z.string() }).nullable()
});
export type CurrentUser = z.infer<typeof CurrentUser>;
