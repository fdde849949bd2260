import { z } from 'zod';

// What a list column is: its type decides which filter operators it offers, what value each
// operator takes, how it sorts and how the table aligns it. Server (validation, SQL) and app
// (filter builder, cells) read the same definitions.

export const FIELD_TYPES = ['text', 'number', 'money', 'date', 'enum', 'tags', 'boolean'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export const OPERATORS = {
  text: ['contains', 'is', 'is_not', 'is_empty', 'is_not_empty', 'starts_with'],
  number: ['eq', 'gt', 'gte', 'lt', 'lte', 'between', 'is_empty'],
  money: ['eq', 'gt', 'gte', 'lt', 'lte', 'between', 'is_empty'],
  date: ['before', 'after', 'between', 'on', 'in_last', 'not_in_last', 'before_days_ago'],
  enum: ['is_any_of', 'is_none_of'],
  tags: ['any', 'all', 'none'],
  boolean: ['is']
} as const satisfies Record<FieldType, readonly string[]>;

export type OperatorOf<T extends FieldType> = (typeof OPERATORS)[T][number];
export type Operator = OperatorOf<FieldType>;

export interface FieldDef {
  /** The row property and the name used in filters, sorts, columns and URLs (camelCase). */
  key: string;
  label: string;
  type: FieldType;
  sortable: boolean;
  filterable: boolean;
  /** Values an `enum` field takes; absent for an enum whose values live in the data (country, category). */
  options?: readonly string[];
  defaultVisible: boolean;
  align?: 'start' | 'end';
  /** Part of the search box: matches are returned as highlight ranges on this field. */
  searchable?: boolean;
  /** May be null in a row (sorts place nulls last in both directions). */
  nullable?: boolean;
  /** False for a filter that is not a column (the customers' `segment`: membership of a segment). */
  column?: boolean;
}

/** The operators a field's filter offers. */
export const operatorsFor = (field: Pick<FieldDef, 'type'>): readonly Operator[] => OPERATORS[field.type];

/** Operators that take no value (the rule's `value` is ignored and may be null). */
export const VALUELESS_OPERATORS: readonly Operator[] = ['is_empty', 'is_not_empty'];

// Values -------------------------------------------------------------------------------------

/** Days for relative date filters ("in the last 30 days", "before 90 days ago"). */
export const MAX_RELATIVE_DAYS = 36500;
/** Values of an enum or tags filter. */
export const MAX_FILTER_VALUES = 100;

const text = z.string().min(1).max(200);
const finiteNumber = z.number().finite().min(-1e12).max(1e12);
/** Money in filters is an exact decimal string ("129.90", "10"), never a float. */
export const MoneyValue = z.string().regex(/^-?\d{1,12}(\.\d{1,2})?$/, 'expected an amount like 129.90');
/** A calendar date (YYYY-MM-DD, taken in UTC) or an ISO timestamp with its offset. */
export const DateValue = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?$/,
    'expected a date (YYYY-MM-DD) or an ISO timestamp'
  )
  .refine((s) => !Number.isNaN(Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s)), 'not a real date');
const days = z.number().int().min(0).max(MAX_RELATIVE_DAYS);
const range = <T extends z.ZodType>(item: T) => z.tuple([item, item]);

/** The schema of a rule's `value` for a field and operator; null when the pair is not allowed. */
export function valueSchema(field: FieldDef, operator: string): z.ZodType | null {
  if (!(OPERATORS[field.type] as readonly string[]).includes(operator)) return null;
  if ((VALUELESS_OPERATORS as readonly string[]).includes(operator)) return z.unknown();
  switch (field.type) {
    case 'text':
      return text;
    case 'number':
      if (operator === 'is_empty') return z.unknown();
      return operator === 'between' ? range(finiteNumber) : finiteNumber;
    case 'money':
      if (operator === 'is_empty') return z.unknown();
      return operator === 'between' ? range(MoneyValue) : MoneyValue;
    case 'date':
      if (operator === 'in_last' || operator === 'not_in_last' || operator === 'before_days_ago') return days;
      return operator === 'between' ? range(DateValue) : DateValue;
    case 'enum': {
      const item = field.options ? z.enum(field.options as [string, ...string[]]) : text;
      return z.array(item).min(1).max(MAX_FILTER_VALUES);
    }
    case 'tags':
      return z.array(z.string().min(1).max(50)).min(1).max(MAX_FILTER_VALUES);
    case 'boolean':
      return z.boolean();
  }
}

/** Find a field by key in an entity's definitions. */
export const fieldByKey = (fields: readonly FieldDef[], key: string): FieldDef | undefined =>
  fields.find((f) => f.key === key);
