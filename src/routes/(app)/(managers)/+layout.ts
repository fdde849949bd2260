import { error } from '@sveltejs/kit';
import { isManagerRole } from '$shared/rules/people.js';
import type { LayoutLoad } from './$types';

export const load: LayoutLoad = async ({ parent }) => {
  const { user } = await parent();
  if (!isManagerRole(user.role)) {
    error(403, { message: 'This screen is for managers and admins.', code: 'forbidden' });
  }
};
