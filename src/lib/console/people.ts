import type { CurrentUser } from '$shared/schemas/auth.js';
import { agents } from './agents.svelte.js';

export interface PersonRef {
  id: number;
  name: string;
}

/**
 * The name behind a user id, from what the console already knows: null for no one, undefined when
 * the id is someone we have no name for (the caller then asks the server for the whole row).
 */
export function personFor(id: number | null, me: CurrentUser): PersonRef | null | undefined {
  if (id === null) return null;
  if (id === me.id) return { id, name: me.name };
  const agent = agents.get(id);
  return agent ? { id, name: agent.name } : undefined;
}
