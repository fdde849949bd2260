import { zValidator } from '@hono/zod-validator';
import type { ValidationTargets } from 'hono';
import type { z } from 'zod';
import { AppError } from '../errors.js';
import { describedBy } from './route-doc.js';

type Issue = { path: string; message: string };

// Postgres cannot store NUL in text or jsonb, and a UTF-16 half without its other half has no
// UTF-8 form: the driver would write U+FFFD in its place, and jsonb refuses its escape.
// eslint-disable-next-line no-control-regex -- NUL is what this looks for
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Where `value` holds text the database cannot store as it was sent. */
function unstorableText(value: unknown, path: string[] = [], found: Issue[] = []): Issue[] {
  if (typeof value === 'string') {
    if (UNSTORABLE.test(value))
      found.push({ path: path.join('.'), message: 'contains a NUL character or half of a UTF-16 pair' });
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => unstorableText(item, [...path, String(i)], found));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      unstorableText(key, [...path, key], found);
      unstorableText(item, [...path, key], found);
    }
  }
  return found;
}

const refuse = (target: string, issues: Issue[]) =>
  new AppError(
    'validation_failed',
    `Invalid ${target}: ${issues.map((i) => `${i.path || target} ${i.message}`).join('; ')}`,
    issues
  );

/**
 * zod validation for a request part; failures become the one error shape
 * (`validation_failed`, with each issue's path and message as details). Text the schema accepts
 * but the database cannot store is refused here too, before any row is written.
 */
export const validate = <T extends z.ZodType, Target extends keyof ValidationTargets>(
  target: Target,
  schema: T
) =>
  describedBy(
    zValidator(target, schema, (result) => {
      if (!result.success)
        throw refuse(
          target,
          result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))
        );
      const unstorable = unstorableText(result.data);
      if (unstorable.length > 0) throw refuse(target, unstorable);
    }),
    { validates: { target, schema } }
  );
