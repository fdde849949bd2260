import type { User } from 'lucia';

/** Who is acting: for per-object authorization and the audit log. */
export interface Actor {
  user: User;
  ip: string | null;
}
