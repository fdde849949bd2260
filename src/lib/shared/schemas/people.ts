import { z } from 'zod';
import { USER_ROLES } from '../enums.js';

export const IdParam = z.object({ id: z.coerce.number().int().positive().max(2_147_483_647) });

export const Team = z.object({
  id: z.number().int(),
  name: z.string(),
  members: z.number().int(),
  autoAssign: z.boolean()
});
export type Team = z.infer<typeof Team>;

export const TeamBody = z.object({ name: z.string().trim().min(1).max(80) });
export const TeamPatch = z
  .object({ name: z.string().trim().min(1).max(80), autoAssign: z.boolean() })
  .partial()
  .refine((t) => Object.keys(t).length > 0, { message: 'nothing to change' });

export const AdminUser = z.object({
  id: z.number().int(),
  email: z.string(),
  name: z.string(),
  role: z.enum(USER_ROLES),
  teamId: z.number().int().nullable(),
  active: z.boolean(),
  createdAt: z.string()
});
export type AdminUser = z.infer<typeof AdminUser>;

export const PASSWORD_MIN_LENGTH = 8;

/** A new user's fields; the command line (server/cli/create-user.ts) checks its arguments with them too. */
export const NewUserFields = z.object({
  email: z.string().trim().toLowerCase().pipe(z.email()),
  name: z.string().trim().min(1).max(120),
  role: z.enum(USER_ROLES),
  teamId: z.number().int().positive().nullable().default(null),
  password: z.string().min(PASSWORD_MIN_LENGTH).max(1024)
});

export const CreateUserBody = NewUserFields.refine((u) => u.role !== 'agent' || u.teamId !== null, {
  message: 'an agent needs a team',
  path: ['teamId']
});

export const UpdateUserBody = z
  .object({
    name: z.string().trim().min(1).max(120),
    role: z.enum(USER_ROLES),
    teamId: z.number().int().positive().nullable(),
    active: z.boolean()
  })
  .partial()
  .refine((u) => Object.keys(u).length > 0, { message: 'nothing to change' });
