import { formatMoney } from '$lib/format.js';
import { VALUELESS_OPERATORS, type FieldDef, type FieldType, type Operator } from '$shared/lists/fields.js';

// How the filter builder and the chips say each operator, per field type ("Total is at least $100",
// "Last order in the last 30 days"), and the value a rule starts with when its field or operator changes.

const LABELS: Record<FieldType, Partial<Record<Operator, string>>> = {
  text: {
    contains: 'contains',
    is: 'is',
    is_not: 'is not',
    starts_with: 'starts with',
    is_empty: 'is empty',
    is_not_empty: 'is not empty'
  },
  number: {
    eq: '=',
    gt: '>',
    gte: '≥',
    lt: '<',
    lte: '≤',
    between: 'between',
    is_empty: 'is empty'
  },
  money: {
    eq: '=',
    gt: '>',
    gte: '≥',
    lt: '<',
    lte: '≤',
    between: 'between',
    is_empty: 'is empty'
  },
  date: {
    in_last: 'in the last',
    not_in_last: 'not in the last',
    before_days_ago: 'before … days ago',
    after: 'after',
    before: 'before',
    on: 'on',
    between: 'between'
  },
  enum: { is_any_of: 'is', is_none_of: 'is not' },
  tags: { any: 'has any of', all: 'has all of', none: 'has none of' },
  boolean: { is: 'is' }
};

export function operatorLabel(type: FieldType, op: Operator): string {
  return LABELS[type][op] ?? op.replaceAll('_', ' ');
}

export const takesValue = (op: Operator) => !VALUELESS_OPERATORS.includes(op) && op !== 'is_empty';

/** Relative date operators take a number of days. */
export const isRelativeDate = (op: Operator) =>
  op === 'in_last' || op === 'not_in_last' || op === 'before_days_ago';

const today = () => new Date().toISOString().slice(0, 10);

/** The value a rule gets when its field or operator is picked: something valid the user then edits. */
export function defaultValue(field: FieldDef, op: Operator): unknown {
  if (!takesValue(op)) return null;
  switch (field.type) {
    case 'text':
      return '';
    case 'number':
      return op === 'between' ? [0, 100] : 0;
    case 'money':
      return op === 'between' ? ['0', '100'] : '100';
    case 'date':
      if (isRelativeDate(op)) return op === 'before_days_ago' ? 90 : 30;
      return op === 'between' ? [today(), today()] : today();
    case 'enum':
    case 'tags':
      return [];
    case 'boolean':
      return true;
  }
}

/** The first operator a field's filter starts with. */
export function defaultOperator(field: FieldDef): Operator {
  switch (field.type) {
    case 'text':
      return 'contains';
    case 'number':
    case 'money':
      return 'gte';
    case 'date':
      return 'in_last';
    case 'enum':
      return 'is_any_of';
    case 'tags':
      return 'any';
    case 'boolean':
      return 'is';
  }
}

/** A value as a person reads it: "Gold or Platinum", "$100.00", "30 days". */
export function valueLabel(field: FieldDef, op: Operator, value: unknown): string {
  if (!takesValue(op)) return '';
  const one = (v: unknown): string => {
    if (field.type === 'money') return formatMoney(String(v));
    if (field.type === 'boolean') return v ? 'yes' : 'no';
    if (field.type === 'date')
      return new Date(`${String(v).slice(0, 10)}T00:00:00Z`).toLocaleDateString(undefined, {
        day: 'numeric',
        month: 'short',
        year: 'numeric',
        timeZone: 'UTC'
      });
    if (field.type === 'enum') return optionLabel(String(v));
    return String(v);
  };
  if (field.type === 'date' && isRelativeDate(op)) {
    const days = Number(value);
    return op === 'before_days_ago' ? `${days} days ago` : `${days} days`;
  }
  if (op === 'between' && Array.isArray(value)) return `${one(value[0])} and ${one(value[1])}`;
  if (Array.isArray(value)) {
    const parts = value.map(one);
    if (parts.length <= 2) return parts.join(field.type === 'tags' && op === 'all' ? ' and ' : ' or ');
    return `${parts.slice(0, 2).join(', ')} +${parts.length - 2}`;
  }
  return one(value);
}

/** "in_stock" -> "In stock"; "gold" -> "Gold"; country codes stay as they are. */
const OPTION_LABELS: Record<string, string> = { pos: 'POS', in_stock: 'In stock' };

export function optionLabel(value: string): string {
  if (OPTION_LABELS[value]) return OPTION_LABELS[value];
  if (/^[A-Z]{2,3}$/.test(value)) return value;
  const text = value.replaceAll('_', ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** "Total ≥ $100.00", "Last order in the last 30 days", "Tier is Gold or Platinum". */
export function describeRule(field: FieldDef, op: Operator, value: unknown): string {
  const operator = op === 'before_days_ago' ? 'before' : operatorLabel(field.type, op);
  const text = valueLabel(field, op, value);
  return text ? `${field.label} ${operator} ${text}` : `${field.label} ${operator}`;
}
