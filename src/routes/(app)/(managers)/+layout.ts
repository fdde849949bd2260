import { error } from '@sveltejs/kit';
import type { LayoutLoad } from './$types';

export const load: LayoutLoad = async ({ parent }) => {
  const { user } = await parent();
  if (user.role !== 'manager' && user.role !== 'admin') {
    error(403, { message: 'This screen is for managers and admins.', code: 'forbidden' });
  }
};
