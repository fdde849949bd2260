import { z } from 'zod';
import type { FieldDef } from './fields.js';
import { LIST_FIELDS, type ListEntity } from './query.js';

// The distinct values of an enum field whose values live in the data (a customer's country, a
// product's category, an order's currency): what the filter editor's picker lists, most used
// first, with how many rows hold each. Enums with fixed options (status, tier) list their options.
// Tags (a customer's) list each tag with how many rows carry it.

/** At most this many values come back; a search narrows them. */
export const MAX_FIELD_VALUES = 200;

/** Enum fields of `entity` whose values are read from the data, and its tag fields. */
export const dataEnumFields = (entity: ListEntity): FieldDef[] =>
  LIST_FIELDS[entity].filter((f) => ((f.type === 'enum' && !f.options) || f.type === 'tags') && f.filterable);

export const fieldValuesQuerySchema = (entity: ListEntity) => {
  const keys = dataEnumFields(entity).map((f) => f.key) as [string, ...string[]];
  return z.object({
    field: z.enum(keys),
    /** Case-insensitive "contains" on the value. */
    q: z.string().trim().max(100).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_FIELD_VALUES).default(MAX_FIELD_VALUES)
  });
};

export interface FieldValue {
  value: string;
  /** Rows holding the value (an estimate when `approximate`). */
  count: number;
}

export interface FieldValues {
  field: string;
  values: FieldValue[];
  /** Counts come from the planner's statistics (a big table), not a count of the rows. */
  approximate: boolean;
  /** More values match than were returned: search to narrow them. */
  truncated: boolean;
}
