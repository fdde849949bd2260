import { redirect } from '@sveltejs/kit';
import { api } from '$lib/api.js';
import { homeFor, safeNext, session } from '$lib/session.svelte.js';
import type { PageLoad } from './$types';

/** Already signed in: go straight on. If the server cannot be reached, the form says so on submit. */
export const load: PageLoad = async ({ url }) => {
  const user = await session.load().catch(() => null);
  if (user) redirect(307, safeNext(url.searchParams.get('next')) ?? homeFor(user.role));
  // The demo accounts are listed only where they exist.
  const meta = await api.api.meta
    .$get()
    .then((r) => (r.ok ? r.json() : null))
    .catch(() => null);
  return { demo: meta?.demo ?? false };
};
