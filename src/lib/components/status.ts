import type { LoyaltyTier, OrderStatus, TicketPriority, TicketStatus, UserRole } from '$shared/enums.js';

export type Tone = 'neutral' | 'info' | 'accent' | 'success' | 'warning' | 'orange' | 'danger' | 'teal';
export type TierTone = `tier-${LoyaltyTier}`;

interface Look<T extends string = Tone> {
  label: string;
  tone: T;
}

// Every value of every enum has a look: adding an enum value without one fails type-checking.
export const ORDER_STATUS_LOOK: Record<OrderStatus, Look> = {
  pending: { label: 'Pending', tone: 'warning' },
  paid: { label: 'Paid', tone: 'info' },
  fulfilled: { label: 'Fulfilled', tone: 'accent' },
  shipped: { label: 'Shipped', tone: 'teal' },
  delivered: { label: 'Delivered', tone: 'success' },
  cancelled: { label: 'Cancelled', tone: 'neutral' },
  refunded: { label: 'Refunded', tone: 'orange' }
};

export const TICKET_STATUS_LOOK: Record<TicketStatus, Look> = {
  new: { label: 'New', tone: 'accent' },
  open: { label: 'Open', tone: 'info' },
  pending: { label: 'Pending', tone: 'warning' },
  resolved: { label: 'Resolved', tone: 'success' },
  closed: { label: 'Closed', tone: 'neutral' }
};

export const PRIORITY_LOOK: Record<TicketPriority, Look> = {
  low: { label: 'Low', tone: 'neutral' },
  normal: { label: 'Normal', tone: 'info' },
  high: { label: 'High', tone: 'orange' },
  urgent: { label: 'Urgent', tone: 'danger' }
};

export const TIER_LOOK: Record<LoyaltyTier, Look<TierTone>> = {
  bronze: { label: 'Bronze', tone: 'tier-bronze' },
  silver: { label: 'Silver', tone: 'tier-silver' },
  gold: { label: 'Gold', tone: 'tier-gold' },
  platinum: { label: 'Platinum', tone: 'tier-platinum' }
};

export const ROLE_LOOK: Record<UserRole, Look> = {
  agent: { label: 'Agent', tone: 'neutral' },
  manager: { label: 'Manager', tone: 'accent' },
  admin: { label: 'Admin', tone: 'teal' }
};

export type StatusKind = 'order' | 'ticket' | 'priority' | 'tier' | 'role';

export type StatusValue = {
  order: OrderStatus;
  ticket: TicketStatus;
  priority: TicketPriority;
  tier: LoyaltyTier;
  role: UserRole;
};

const LOOKS: { [K in StatusKind]: Record<StatusValue[K], Look<Tone | TierTone>> } = {
  order: ORDER_STATUS_LOOK,
  ticket: TICKET_STATUS_LOOK,
  priority: PRIORITY_LOOK,
  tier: TIER_LOOK,
  role: ROLE_LOOK
};

export function statusLook<K extends StatusKind>(kind: K, value: StatusValue[K]): Look<Tone | TierTone> {
  return (
    (LOOKS[kind] as Record<string, Look<Tone | TierTone>>)[value] ?? { label: String(value), tone: 'neutral' }
  );
}
