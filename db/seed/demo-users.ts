/** The demo logins, printed at start and listed in the README. Demo data only. */
export const DEMO_PASSWORD = 'pulse-demo';

export const DEMO_TEAMS = ['Orders & Shipping', 'Returns & Refunds', 'Loyalty & Accounts'] as const;

export interface DemoUser {
  email: string;
  name: string;
  role: 'agent' | 'manager' | 'admin';
  /** 1-based index into DEMO_TEAMS. */
  team: number | null;
}

export const DEMO_USERS: DemoUser[] = [
  { email: 'admin@pulse.demo', name: 'Ada Admin', role: 'admin', team: null },
  { email: 'manager@pulse.demo', name: 'Maya Manager', role: 'manager', team: null },
  { email: 'manager2@pulse.demo', name: 'Marcus Lead', role: 'manager', team: null },
  { email: 'agent@pulse.demo', name: 'Alex Agent', role: 'agent', team: 1 },
  { email: 'agent2@pulse.demo', name: 'Bea Brooks', role: 'agent', team: 2 },
  { email: 'agent3@pulse.demo', name: 'Chen Wu', role: 'agent', team: 1 },
  { email: 'agent4@pulse.demo', name: 'Dana Ortiz', role: 'agent', team: 1 },
  { email: 'agent5@pulse.demo', name: 'Eli Novak', role: 'agent', team: 2 },
  { email: 'agent6@pulse.demo', name: 'Farah Khan', role: 'agent', team: 2 },
  { email: 'agent7@pulse.demo', name: 'Gus Meyer', role: 'agent', team: 3 },
  { email: 'agent8@pulse.demo', name: 'Hana Sato', role: 'agent', team: 3 }
];
