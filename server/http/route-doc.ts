import type { z } from 'zod';

/**
 * What a middleware tells the OpenAPI document about its route (openapi.ts reads it off the
 * app's routes): the zod schema `validate()` checks a request part with, and who `requireUser` /
 * `requireRole` / `integrationOrRole` let in. Routes written the usual way are documented without
 * a second description.
 */
export interface RouteDoc {
  validates?: { target: string; schema: z.ZodType };
  roles?: readonly string[] | 'signed-in';
  integration?: boolean;
}

export const ROUTE_DOC = Symbol.for('pulse.route-doc');

export function describedBy<T extends object>(middleware: T, doc: RouteDoc): T {
  return Object.assign(middleware, { [ROUTE_DOC]: doc });
}

export function routeDocOf(handler: unknown): RouteDoc | undefined {
  return (handler as { [ROUTE_DOC]?: RouteDoc } | null)?.[ROUTE_DOC];
}
