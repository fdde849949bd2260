import type { DuplicateReason } from '$shared/schemas/merge.js';

export const REASON_LABEL: Record<DuplicateReason, string> = {
  email: 'Same email',
  phone: 'Same phone',
  name_postcode: 'Similar name, same postcode'
};
