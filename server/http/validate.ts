import { zValidator } from '@hono/zod-validator';
import type { ValidationTargets } from 'hono';
import type { z } from 'zod';
import { AppError } from '../errors.js';

/**
 * zod validation for a request part; failures become the one error shape
 * (`validation_failed`, with each issue's path and message as details).
 */
export const validate = <T extends z.ZodType, Target extends keyof ValidationTargets>(target: Target, schema: T) =>
  zValidator(target, schema, (result) => {
    if (!result.success) {
      const issues = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
      throw new AppError('validation_failed', `Invalid ${target}: ${issues.map((i) => `${i.path || target} ${i.message}`).join('; ')}`, issues);
    }
  });
