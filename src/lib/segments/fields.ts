import type { SegmentCondition } from '$shared/schemas/segments.js';

// The rule builder's vocabulary: each field's label, its operators in words and a default
// condition to start from when the field is picked.

export type FieldKey = SegmentCondition['field'];

export interface FieldChoice {
  key: FieldKey;
  label: string;
  group: 'Orders' | 'Loyalty' | 'Profile' | 'Support';
  /** A valid condition on this field to start from. */
  start: () => SegmentCondition;
}

export const FIELD_CHOICES: FieldChoice[] = [
  {
    key: 'lifetimeSpend',
    label: 'Lifetime spend',
    group: 'Orders',
    start: () => ({ field: 'lifetimeSpend', operator: 'gte', value: '100' })
  },
  {
    key: 'recentSpend',
    label: 'Recent spend',
    group: 'Orders',
    start: () => ({ field: 'recentSpend', days: 30, operator: 'gte', value: '100' })
  },
  {
    key: 'orderCount',
    label: 'Order count',
    group: 'Orders',
    start: () => ({ field: 'orderCount', operator: 'gte', value: 2 })
  },
  {
    key: 'recentOrderCount',
    label: 'Recent orders',
    group: 'Orders',
    start: () => ({ field: 'recentOrderCount', days: 90, operator: 'gte', value: 1 })
  },
  {
    key: 'averageOrderValue',
    label: 'Average order value',
    group: 'Orders',
    start: () => ({ field: 'averageOrderValue', operator: 'gte', value: '50' })
  },
  {
    key: 'firstOrderAt',
    label: 'First order',
    group: 'Orders',
    start: () => ({ field: 'firstOrderAt', operator: 'in_last', value: 30 })
  },
  {
    key: 'lastOrderAt',
    label: 'Last order',
    group: 'Orders',
    start: () => ({ field: 'lastOrderAt', operator: 'not_in_last', value: 90 })
  },
  {
    key: 'productsBought',
    label: 'Products bought',
    group: 'Orders',
    start: () => ({ field: 'productsBought', operator: 'any', value: [] })
  },
  {
    key: 'categoriesBought',
    label: 'Categories bought',
    group: 'Orders',
    start: () => ({ field: 'categoriesBought', operator: 'any', value: [] })
  },
  {
    key: 'rfm',
    label: 'RFM segment',
    group: 'Orders',
    start: () => ({ field: 'rfm', operator: 'is_any_of', value: ['champions'] })
  },
  {
    key: 'tier',
    label: 'Loyalty tier',
    group: 'Loyalty',
    start: () => ({ field: 'tier', operator: 'is_any_of', value: ['gold'] })
  },
  {
    key: 'points',
    label: 'Points balance',
    group: 'Loyalty',
    start: () => ({ field: 'points', operator: 'gte', value: 500 })
  },
  {
    key: 'pointsExpiring',
    label: 'Points expiring',
    group: 'Loyalty',
    start: () => ({ field: 'pointsExpiring', days: 30, operator: 'gt', value: 0 })
  },
  {
    key: 'tags',
    label: 'Tags',
    group: 'Profile',
    start: () => ({ field: 'tags', operator: 'any', value: ['vip'] })
  },
  {
    key: 'country',
    label: 'Country',
    group: 'Profile',
    start: () => ({ field: 'country', operator: 'is_any_of', value: ['DE'] })
  },
  {
    key: 'createdAt',
    label: 'Customer since',
    group: 'Profile',
    start: () => ({ field: 'createdAt', operator: 'in_last', value: 30 })
  },
  {
    key: 'consent',
    label: 'Marketing consent',
    group: 'Profile',
    start: () => ({ field: 'consent', channel: 'email', operator: 'is', value: true })
  },
  {
    key: 'attribute',
    label: 'Custom attribute',
    group: 'Profile',
    start: () => ({ field: 'attribute', key: 'attribute_key', operator: 'is', value: 'value' })
  },
  {
    key: 'openTicket',
    label: 'Has an open ticket',
    group: 'Support',
    start: () => ({ field: 'openTicket', operator: 'is', value: true })
  },
  {
    key: 'csat',
    label: 'CSAT',
    group: 'Support',
    start: () => ({ field: 'csat', operator: 'low', value: 2 })
  },
  {
    key: 'supportVip',
    label: 'Support VIP',
    group: 'Support',
    start: () => ({ field: 'supportVip', operator: 'is', value: true })
  }
];

export const OPERATOR_LABELS: Record<string, string> = {
  eq: 'is',
  gt: 'more than',
  gte: 'at least',
  lt: 'less than',
  lte: 'at most',
  between: 'between',
  in_last: 'within the last (days)',
  not_in_last: 'more than (days) ago',
  before: 'before',
  after: 'after',
  is_empty: 'never',
  is_any_of: 'is any of',
  is_none_of: 'is none of',
  any: 'any of',
  all: 'all of',
  none: 'none of',
  is: 'is',
  is_not: 'is not',
  contains: 'contains',
  is_not_empty: 'is set',
  given: 'given',
  not_given: 'not given',
  low: 'at or below'
};

/** The operators a field offers (what the schema accepts for it). */
export const OPERATORS_OF: Record<FieldKey, string[]> = {
  lifetimeSpend: ['gte', 'gt', 'lte', 'lt', 'eq'],
  recentSpend: ['gte', 'gt', 'lte', 'lt', 'eq'],
  orderCount: ['gte', 'gt', 'lte', 'lt', 'eq'],
  recentOrderCount: ['gte', 'gt', 'lte', 'lt', 'eq'],
  averageOrderValue: ['gte', 'gt', 'lte', 'lt', 'eq'],
  firstOrderAt: ['in_last', 'not_in_last', 'is_empty'],
  lastOrderAt: ['in_last', 'not_in_last', 'is_empty'],
  createdAt: ['in_last', 'not_in_last'],
  productsBought: ['any', 'all', 'none'],
  categoriesBought: ['any', 'all', 'none'],
  rfm: ['is_any_of', 'is_none_of'],
  tier: ['is_any_of', 'is_none_of'],
  points: ['gte', 'gt', 'lte', 'lt', 'eq'],
  pointsExpiring: ['gt', 'gte', 'lt', 'lte', 'eq'],
  tags: ['any', 'all', 'none'],
  country: ['is_any_of', 'is_none_of'],
  attribute: ['is', 'is_not', 'contains', 'gt', 'lt', 'is_empty', 'is_not_empty'],
  consent: ['is'],
  openTicket: ['is'],
  supportVip: ['is'],
  csat: ['low', 'given', 'not_given']
};

/** How a value is typed in: a list (comma separated), a number, money, a yes/no, or nothing. */
export function valueKind(
  c: SegmentCondition
): 'list' | 'numbers' | 'number' | 'money' | 'boolean' | 'none' | 'text' {
  if (
    c.operator === 'is_empty' ||
    c.operator === 'is_not_empty' ||
    c.operator === 'given' ||
    c.operator === 'not_given'
  )
    return 'none';
  switch (c.field) {
    case 'lifetimeSpend':
    case 'recentSpend':
    case 'averageOrderValue':
      return 'money';
    case 'productsBought':
    case 'categoriesBought':
      return 'numbers';
    case 'rfm':
    case 'tier':
    case 'tags':
    case 'country':
      return 'list';
    case 'consent':
    case 'openTicket':
    case 'supportVip':
      return 'boolean';
    case 'attribute':
      return typeof c.value === 'number' ? 'number' : 'text';
    default:
      return 'number';
  }
}

export const hasDays = (c: SegmentCondition) =>
  c.field === 'recentSpend' || c.field === 'recentOrderCount' || c.field === 'pointsExpiring';
