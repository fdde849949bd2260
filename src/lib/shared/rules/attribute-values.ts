import { z } from 'zod';

// What a custom attribute's value may be, by the type its definition gives it
// (custom_attribute_definitions, migration 0013). The server checks every value it writes with
// this; forms use it to say what is wrong before anything is sent.

export const ATTRIBUTE_TYPES = ['text', 'number', 'money', 'date', 'boolean', 'choice'] as const;
export type AttributeType = (typeof ATTRIBUTE_TYPES)[number];

export interface AttributeDefinition {
  key: string;
  label: string;
  type: AttributeType;
  /** The allowed values of a `choice` attribute; empty for the others. */
  options: readonly string[];
}

/** Custom attribute keys as the database allows them. */
export const AttributeKey = z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'expected a key like loyalty_note');

const schemas: Record<Exclude<AttributeType, 'choice'>, z.ZodType> = {
  text: z.string().trim().min(1).max(500),
  number: z.number().finite().min(-1e12).max(1e12),
  // Exact decimal strings, as every amount in Pulse.
  money: z
    .string()
    .regex(/^-?\d{1,10}(\.\d{1,2})?$/, 'expected an amount like 129.90')
    .transform((s) => Number(s).toFixed(2)),
  date: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date (YYYY-MM-DD)')
    .refine((s) => {
      const d = new Date(`${s}T00:00:00Z`);
      return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
    }, 'not a real date'),
  boolean: z.boolean()
};

/** The schema of a value for `definition`; `null` always clears the attribute. */
export function attributeValueSchema(definition: AttributeDefinition): z.ZodType {
  const value =
    definition.type === 'choice'
      ? z.enum(definition.options as [string, ...string[]], {
          error: `expected one of ${definition.options.join(', ')}`
        })
      : schemas[definition.type];
  return value.nullable();
}

/** Checks a value for an attribute: `{ value }` normalised (money as "12.50"), or a message. */
export function checkAttributeValue(
  definition: AttributeDefinition,
  value: unknown
): { ok: true; value: unknown } | { ok: false; message: string } {
  const result = attributeValueSchema(definition).safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, message: `${definition.label}: ${result.error.issues[0]?.message ?? 'invalid value'}` };
}
