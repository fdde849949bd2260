import type { UserRole } from '$shared/enums.js';

/** The demo logins the seed creates (db/seed/demo-users.ts); shown on the login page. */
export const DEMO_PASSWORD = 'pulse-demo';

export const DEMO_ACCOUNTS: { email: string; role: UserRole; note: string }[] = [
  { email: 'admin@pulse.demo', role: 'admin', note: 'Everything, incl. admin' },
  { email: 'manager@pulse.demo', role: 'manager', note: 'Wallboard and analytics' },
  { email: 'agent@pulse.demo', role: 'agent', note: 'Orders & Shipping team' },
  { email: 'agent2@pulse.demo', role: 'agent', note: 'Returns & Refunds team' }
];
