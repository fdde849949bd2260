import fc from 'fast-check';
import type { z } from 'zod';

// Generators for property-based tests of the HTTP edge: requests that a zod schema accepts, and the
// ways a client (a broken integration, a hostile one) can get them wrong.

/** `arbitrary`'s value with probability `p`, otherwise null. */
export const sometimes = <T>(arbitrary: fc.Arbitrary<T>, p: number): fc.Arbitrary<T | null> =>
  fc.oneof(
    { weight: Math.round((1 - p) * 100), arbitrary: fc.constant(null) },
    { weight: Math.round(p * 100), arbitrary }
  );

/** How many runs a property gets: `FUZZ_RUNS=N` makes the suite longer. */
export const fuzzRuns = (fallback: number) => Number(process.env.FUZZ_RUNS) || fallback;

type Def = {
  type: string;
  checks?: { _zod: { def: Record<string, any> } }[];
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  entries?: Record<string, string>;
  format?: string;
};
const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def;
const checksOf = (def: Def) => (def.checks ?? []).map((c) => c._zod.def);

export interface ArbitraryHints {
  /** Values for number fields whose name ends in `id` or `Id` (real rows, so requests reach the services). */
  ids?: Record<string, number[]>;
}

/**
 * Values a zod schema (the subset Pulse's request schemas use) accepts, most of the time: objects,
 * strings with lengths, emails and date patterns, numbers with bounds, enums, arrays, nullable,
 * optional and default, and comma-separated enum lists. Refinements across fields are not
 * followed; those values are rejected, which is fine for a fuzzer.
 */
export function arbitraryFor(
  schema: z.ZodType,
  hints: ArbitraryHints = {},
  name = ''
): fc.Arbitrary<unknown> {
  const def = defOf(schema);
  const checks = checksOf(def);
  const check = (kind: string) => checks.find((c) => c.check === kind);
  switch (def.type) {
    case 'object': {
      const shape = def.shape!;
      const model = Object.fromEntries(
        Object.entries(shape).map(([key, value]) => [key, arbitraryFor(value, hints, key)])
      );
      const required = Object.entries(shape)
        .filter(([, value]) => !['optional', 'default', 'prefault'].includes(defOf(value).type))
        .map(([key]) => key);
      return fc.record(model, { requiredKeys: required });
    }
    case 'string': {
      if (def.format === 'email') return fc.emailAddress();
      const pattern = checks.find((c) => c.format === 'regex')?.pattern as RegExp | undefined;
      if (pattern?.source.includes('\\d{4}-\\d{2}-\\d{2}')) return calendarDate;
      if (pattern?.source.includes('\\d{4}-(0[1-9]|1[0-2])')) return calendarDate.map((d) => d.slice(0, 7));
      if (pattern) return fc.stringMatching(pattern);
      const minLength = Math.max(check('min_length')?.minimum ?? 0, 1);
      const maxLength = Math.max(Math.min(check('max_length')?.maximum ?? 200, 200), minLength);
      // Valid lengths, any content: every code point (NUL, lone surrogates), SQL and HTML.
      const nasty = [...SQL, ...HTML, ...ODD].filter((s) => s.length >= minLength && s.length <= maxLength);
      return fc.oneof(
        { weight: 3, arbitrary: fc.string({ minLength, maxLength }) },
        { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength, maxLength }) },
        { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength, maxLength }) },
        {
          weight: 1,
          arbitrary: nasty.length ? fc.constantFrom(...nasty) : fc.string({ minLength, maxLength })
        }
      );
    }
    case 'number': {
      const low = check('greater_than');
      const high = check('less_than');
      const min = low ? (low.inclusive ? low.value : low.value + 1) : -1000;
      const max = high ? (high.inclusive ? high.value : high.value - 1) : 1_000_000;
      const ids = /(^|[a-z])(id|Id)$/.test(name) ? hints.ids?.[name] : undefined;
      const number = fc.integer({ min: Math.max(min, -2_147_483_648), max: Math.min(max, 2_147_483_647) });
      return ids?.length
        ? fc.oneof({ arbitrary: fc.constantFrom(...ids), weight: 3 }, { arbitrary: number, weight: 1 })
        : number;
    }
    case 'boolean':
      return fc.boolean();
    case 'enum':
      return fc.constantFrom(...Object.values(def.entries!));
    case 'optional':
    case 'default':
    case 'prefault':
      return arbitraryFor(def.innerType!, hints, name);
    case 'nullable':
      return fc.option(arbitraryFor(def.innerType!, hints, name), { nil: null, freq: 4 });
    case 'array': {
      const min = check('min_length')?.minimum ?? 0;
      const max = Math.min(check('max_length')?.maximum ?? 5, 5);
      return fc.array(arbitraryFor(def.element!, hints, name), {
        minLength: min,
        maxLength: Math.max(min, max)
      });
    }
    case 'pipe': {
      // A comma-separated list of enum values (`status=new,open`) is a string piped into an array.
      const out = defOf(def.out!);
      if (out.type === 'array' && defOf(out.element!).type === 'enum') {
        return fc
          .subarray(Object.values(defOf(out.element!).entries!), { minLength: 1 })
          .map((v) => v.join(','));
      }
      // `z.string().trim().pipe(z.email())`: the stricter end says what a valid value is.
      return defOf(def.in!).type === 'string' && out.type === 'string'
        ? arbitraryFor(def.out!, hints, name)
        : arbitraryFor(def.in!, hints, name);
    }
    default:
      return fc.jsonValue();
  }
}

const calendarDate = fc
  .date({ min: new Date('2024-01-01T00:00:00Z'), max: new Date('2027-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));

// What clients send that they should not ------------------------------------------------------

const SQL = [
  "'; DROP TABLE tickets; --",
  "1' OR '1'='1",
  '1; SELECT pg_sleep(5)',
  "' UNION SELECT password_hash FROM users --",
  '$1',
  '%',
  '_',
  '\\'
];
const HTML = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '"><svg onload=alert(1)>',
  '{{constructor.constructor("alert(1)")()}}'
];
const ODD = [
  '',
  ' ',
  '\u0000',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  '-0',
  '1e309',
  '0x10',
  'true',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  '\u202e\u0645',
  '😀',
  '\ud800',
  'é',
  '\uffff'
];

/** Text no field should trip over: SQL, HTML, NUL bytes, lone surrogates, right-to-left marks, huge and empty. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...SQL, ...HTML, ...ODD),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.integer({ min: 1_000, max: 60_000 }).map((n) => 'ä'.repeat(n)),
  fc.constant('x'.repeat(300_000))
);

/** A value of any type, for a field that expects another one. */
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  nastyString,
  fc.constantFrom(
    0,
    -1,
    1.5,
    -0,
    2 ** 31,
    2 ** 53,
    -(2 ** 63),
    1e308,
    Number.MAX_SAFE_INTEGER + 2,
    true,
    false,
    null
  ),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
);

/** Percent-encodes every byte of `text` as UTF-8 but unreserved characters (a lone surrogate becomes U+FFFD). */
export const percentEncode = (text: string) =>
  [...Buffer.from(text, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9\-._~]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`
    )
    .join('');

/** Bodies that are not the JSON object an endpoint reads: broken, other JSON values, deeply nested, not UTF-8. */
export const badBodyText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom(
    '',
    '{',
    '[1,2',
    'null',
    '"x"',
    '[]',
    '{"a":1}{',
    '\ufeff{}',
    '{"a":1,}',
    "{'a':1}",
    '{"a":NaN}',
    '{"a":1e999}',
    '\u0000'
  ),
  // Deep nesting: a parser or validator that recurses must not run out of stack.
  fc.integer({ min: 1_000, max: 100_000 }).map((depth) => `{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`)
);

/** Path ids that are not ids, or not anyone's. */
export const badId: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '0',
    '-1',
    '2147483648',
    '99999999999999999999',
    '1e3',
    '0x1f',
    '1.5',
    'abc',
    '%20',
    '%00',
    '%zz',
    '..',
    '１',
    ' 7',
    '7 ',
    'NaN',
    'Infinity',
    '__proto__',
    "1'--",
    '9'.repeat(400)
  ),
  fc.integer({ min: 1, max: 2_147_483_647 }).map(String),
  fc.string({ unit: 'binary', maxLength: 12 }).map(percentEncode)
);

/** `body` as JSON text with `key` written once more at the end (JSON.stringify cannot; the last one wins in JSON.parse). */
export function withExtraKey(body: Record<string, unknown>, key: string, value: unknown): string {
  const json = JSON.stringify(body);
  const extra = `${JSON.stringify(key)}:${JSON.stringify(value)}`;
  return json === '{}' ? `{${extra}}` : `${json.slice(0, -1)},${extra}}`;
}
