// The fixed sets the database enforces as enums; the browser and the server share them.

export const USER_ROLES = ['agent', 'manager', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export const ORDER_STATUSES = [
  'pending',
  'paid',
  'fulfilled',
  'shipped',
  'delivered',
  'cancelled',
  'refunded'
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const SALES_CHANNELS = ['web', 'mobile', 'marketplace', 'pos', 'phone'] as const;
export type SalesChannel = (typeof SALES_CHANNELS)[number];

export const TICKET_STATUSES = ['new', 'open', 'pending', 'resolved', 'closed'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

export const TICKET_PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type TicketPriority = (typeof TICKET_PRIORITIES)[number];

export const TICKET_CHANNELS = ['email', 'chat', 'phone', 'web', 'social'] as const;
export type TicketChannel = (typeof TICKET_CHANNELS)[number];

export const MESSAGE_AUTHORS = ['customer', 'agent', 'system'] as const;
export type MessageAuthor = (typeof MESSAGE_AUTHORS)[number];

export const LOYALTY_TIERS = ['bronze', 'silver', 'gold', 'platinum'] as const;
export type LoyaltyTier = (typeof LOYALTY_TIERS)[number];

export const LOYALTY_ENTRY_KINDS = ['earn', 'redeem', 'expire', 'adjust', 'reverse'] as const;
export type LoyaltyEntryKind = (typeof LOYALTY_ENTRY_KINDS)[number];

/** The one-off bonuses a program may give (EarnRules.bonuses), as the ledger names them (loyalty_ledger.bonus). */
export const LOYALTY_BONUSES = ['sign_up', 'birthday', 'first_review'] as const;
export type LoyaltyBonus = (typeof LOYALTY_BONUSES)[number];

export const AGENT_STATUSES = ['online', 'busy', 'away', 'offline'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];
