import { defineTable, TableBatch } from './bulk-insert.js';

/** The columns the seed writes; everything else keeps its database default. */

export const TEAMS = defineTable('teams', { id: 'int', name: 'text', created_at: 'time' });

export const USERS = defineTable('users', {
  id: 'int',
  email: 'text',
  name: 'text',
  password_hash: 'text',
  role: 'enum:user_role',
  team_id: 'int',
  active: 'bool',
  created_at: 'time',
  updated_at: 'time'
});

export const CANNED_RESPONSES = defineTable('canned_responses', {
  id: 'int',
  title: 'text',
  body: 'text',
  team_id: 'int',
  created_by: 'int'
});

export const CATEGORIES = defineTable('categories', { id: 'int', name: 'text', parent_id: 'int' });

export const PRODUCTS = defineTable('products', {
  id: 'int',
  sku: 'text',
  name: 'text',
  description: 'text',
  category_id: 'int',
  price: 'money',
  stock: 'int',
  attributes: 'jsonb',
  active: 'bool',
  created_at: 'time',
  updated_at: 'time'
});

export const CUSTOMERS = defineTable('customers', {
  id: 'int',
  email: 'text',
  first_name: 'text',
  last_name: 'text',
  phone: 'text',
  phone_e164: 'text',
  addresses: 'jsonb',
  preferred_channels: 'tags',
  language: 'text',
  marketing_consent: 'bool',
  marketing_consent_at: 'time',
  tags: 'tags',
  notes: 'text',
  attributes: 'jsonb',
  created_at: 'time',
  updated_at: 'time'
});

export const ORDERS = defineTable('orders', {
  id: 'int',
  customer_id: 'int',
  order_date: 'time',
  status: 'enum:order_status',
  total: 'money',
  currency: 'text',
  channel: 'enum:sales_channel',
  external_id: 'text',
  attributes: 'jsonb',
  created_at: 'time',
  updated_at: 'time'
});

export const ORDER_ITEMS = defineTable('order_items', {
  id: 'int',
  order_id: 'int',
  product_id: 'int',
  quantity: 'int',
  unit_price: 'money'
});

export const TICKETS = defineTable('tickets', {
  id: 'int',
  customer_id: 'int',
  order_id: 'int',
  subject: 'text',
  status: 'enum:ticket_status',
  priority: 'enum:ticket_priority',
  channel: 'enum:ticket_channel',
  assignee_id: 'int',
  team_id: 'int',
  tags: 'tags',
  first_response_due_at: 'time',
  resolution_due_at: 'time',
  first_responded_at: 'time',
  resolved_at: 'time',
  closed_at: 'time',
  csat_score: 'smallint',
  csat_at: 'time',
  last_message_at: 'time',
  version: 'int',
  created_at: 'time',
  updated_at: 'time',
  flagged: 'bool',
  assigned_at: 'time'
});

export const TICKET_MESSAGES = defineTable('ticket_messages', {
  id: 'int',
  ticket_id: 'int',
  author_type: 'enum:message_author',
  author_user_id: 'int',
  body: 'text',
  internal: 'bool',
  created_at: 'time'
});

export const REVIEWS = defineTable('reviews', {
  id: 'int',
  customer_id: 'int',
  product_id: 'int',
  rating: 'smallint',
  title: 'text',
  body: 'text',
  created_at: 'time'
});

// balance, lifetime_points and tier are kept by the ledger trigger.
export const LOYALTY_ACCOUNTS = defineTable('loyalty_accounts', {
  id: 'int',
  customer_id: 'int',
  joined_at: 'time',
  updated_at: 'time'
});

export const LOYALTY_LEDGER = defineTable('loyalty_ledger', {
  id: 'bigint',
  account_id: 'int',
  kind: 'enum:loyalty_entry_kind',
  points: 'int',
  reason: 'text',
  order_id: 'int',
  reverses_id: 'bigint',
  idempotency_key: 'text',
  created_at: 'time'
});

/** Tables with an identity `id`, in an order that satisfies their foreign keys. */
export const SEEDED_TABLES = [
  'teams',
  'users',
  'canned_responses',
  'categories',
  'products',
  'customers',
  'orders',
  'order_items',
  'loyalty_accounts',
  'loyalty_ledger',
  'tickets',
  'ticket_messages',
  'reviews'
] as const;
export type SeededTable = (typeof SEEDED_TABLES)[number];

export function createReferenceBatches() {
  return {
    teams: new TableBatch(TEAMS),
    users: new TableBatch(USERS),
    cannedResponses: new TableBatch(CANNED_RESPONSES),
    categories: new TableBatch(CATEGORIES),
    products: new TableBatch(PRODUCTS)
  };
}
export type ReferenceBatches = ReturnType<typeof createReferenceBatches>;

/**
 * Everything generated for one range of customers; keys in insertion order: foreign keys first,
 * and loyalty before tickets because the ticket VIP trigger reads the loyalty tier.
 */
export function createCustomerBatches() {
  return {
    customers: new TableBatch(CUSTOMERS),
    orders: new TableBatch(ORDERS),
    orderItems: new TableBatch(ORDER_ITEMS),
    loyaltyAccounts: new TableBatch(LOYALTY_ACCOUNTS),
    loyaltyLedger: new TableBatch(LOYALTY_LEDGER),
    tickets: new TableBatch(TICKETS),
    ticketMessages: new TableBatch(TICKET_MESSAGES),
    reviews: new TableBatch(REVIEWS)
  };
}
export type CustomerBatches = ReturnType<typeof createCustomerBatches>;
