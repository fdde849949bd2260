import { redirect } from '@sveltejs/kit';
import { loginUrl, session } from '$lib/session.svelte.js';
import type { LayoutLoad } from './$types';

/** Every screen in this group needs a signed-in user; signed-out visitors go to /login and come back. */
export const load: LayoutLoad = async ({ url }) => {
  const user = await session.load();
  if (!user) redirect(307, loginUrl(url.pathname + url.search));
  return { user };
};
