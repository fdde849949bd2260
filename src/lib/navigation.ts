import { USER_ROLES, type UserRole } from '$shared/enums.js';
import { isManagerRole } from '$shared/rules/people.js';
import type { IconName } from './components/icons.js';

export interface NavItem {
  href: string;
  label: string;
  icon: IconName;
  /** The second key of its `g <key>` go-to shortcut. */
  key: string;
  /** One line on what the screen is for (dashboard quick links, tooltips). */
  summary: string;
  roles: readonly UserRole[];
  section: 'workspace' | 'insights' | 'settings';
}

const EVERYONE = USER_ROLES;
const MANAGERS = USER_ROLES.filter(isManagerRole);

export const NAV_ITEMS: readonly NavItem[] = [
  {
    href: '/',
    label: 'Dashboard',
    icon: 'dashboard',
    key: 'd',
    summary: 'Your day at a glance',
    roles: EVERYONE,
    section: 'workspace'
  },
  {
    href: '/console',
    label: 'Console',
    icon: 'inbox',
    key: 'c',
    summary: "Your team's ticket queue, live",
    roles: EVERYONE,
    section: 'workspace'
  },
  {
    href: '/customers',
    label: 'Customers',
    icon: 'users',
    key: 'u',
    summary: 'Orders, tickets and loyalty per person',
    roles: EVERYONE,
    section: 'workspace'
  },
  {
    href: '/segments',
    label: 'Segments',
    icon: 'users',
    key: 'e',
    summary: 'Saved groups of customers, kept current as they buy',
    roles: EVERYONE,
    section: 'workspace'
  },
  {
    href: '/orders',
    label: 'Orders',
    icon: 'bag',
    key: 'o',
    summary: 'Every order, status as it changes',
    roles: EVERYONE,
    section: 'workspace'
  },
  {
    href: '/products',
    label: 'Products',
    icon: 'package',
    key: 'p',
    summary: 'Catalogue, prices and stock',
    roles: EVERYONE,
    section: 'workspace'
  },
  {
    href: '/reviews',
    label: 'Reviews',
    icon: 'star',
    key: 'r',
    summary: 'What customers say, searchable',
    roles: EVERYONE,
    section: 'workspace'
  },
  {
    href: '/duplicates',
    label: 'Duplicates',
    icon: 'users',
    key: 'm',
    summary: 'Customers who look like one person: merge or dismiss',
    roles: MANAGERS,
    section: 'workspace'
  },
  {
    href: '/wallboard',
    label: 'Wallboard',
    icon: 'monitor',
    key: 'w',
    summary: 'Queue, SLA and sales on the TV',
    roles: MANAGERS,
    section: 'insights'
  },
  {
    href: '/analytics',
    label: 'Analytics',
    icon: 'chart',
    key: 'a',
    summary: 'Sales, ticket and loyalty trends',
    roles: MANAGERS,
    section: 'insights'
  },
  {
    href: '/loyalty',
    label: 'Loyalty',
    icon: 'gift',
    key: 'l',
    summary: 'Members, points liability and the program',
    roles: MANAGERS,
    section: 'insights'
  },
  {
    href: '/campaigns',
    label: 'Campaigns',
    icon: 'zap',
    key: 'k',
    summary: 'Incentives for a segment, measured against a holdout',
    roles: MANAGERS,
    section: 'insights'
  },
  {
    href: '/settings',
    label: 'Support settings',
    icon: 'clock',
    key: 't',
    summary: 'SLA targets, teams and auto-assignment',
    roles: MANAGERS,
    section: 'settings'
  },
  {
    href: '/imports',
    label: 'Imports',
    icon: 'download',
    key: 'l',
    summary: 'Customers, products and orders from files',
    roles: MANAGERS,
    section: 'settings'
  },
  {
    href: '/admin',
    label: 'Admin',
    icon: 'shield',
    key: 's',
    summary: 'Users, roles and sign-in access',
    roles: ['admin'],
    section: 'settings'
  },
  {
    href: '/admin/integrations',
    label: 'Integrations',
    icon: 'link',
    key: 'i',
    summary: 'API tokens and outbound webhooks',
    roles: ['admin'],
    section: 'settings'
  },
  {
    href: '/admin/stores',
    label: 'Stores',
    icon: 'bag',
    key: 'h',
    summary: 'Shopify, WooCommerce and signed order feeds',
    roles: ['admin'],
    section: 'settings'
  }
];

export const NAV_SECTIONS: { id: NavItem['section']; label: string | null }[] = [
  { id: 'workspace', label: null },
  { id: 'insights', label: 'Insights' },
  { id: 'settings', label: 'Settings' }
];

export function navFor(role: UserRole): NavItem[] {
  return NAV_ITEMS.filter((item) => item.roles.includes(role));
}

const within = (pathname: string, href: string) =>
  href === '/' ? pathname === '/' : pathname === href || pathname.startsWith(`${href}/`);

/** Whether `href` is the current screen's item: the longest item that contains the path (Admin vs Integrations). */
export function isActive(pathname: string, href: string): boolean {
  return (
    within(pathname, href) &&
    !NAV_ITEMS.some((item) => item.href.length > href.length && within(pathname, item.href))
  );
}
