import { z } from 'zod';
import { ERROR_CODES } from '#shared/errors.js';
import { routeAccess } from '../auth/scopes.js';
import { routeDocOf, type RouteDoc } from './route-doc.js';

type Json = Record<string, unknown>;

const ErrorBodySchema = z.object({
  error: z.object({
    code: z.enum(Object.keys(ERROR_CODES) as [keyof typeof ERROR_CODES, ...(keyof typeof ERROR_CODES)[]]),
    message: z.string(),
    details: z.unknown().optional()
  })
});

const ERROR_TEXT: Record<string, string> = {
  '400': 'Bad request or validation failed (`bad_request`, `validation_failed`)',
  '401': 'Not signed in, or the API token is unknown, revoked or expired (`unauthenticated`)',
  '403': 'Not allowed: role, API token scope, or a missing Origin (`forbidden`, `origin_rejected`)',
  '404': 'No such record, or one the caller may not see (`not_found`)',
  '409': 'A concurrent or stale change (`conflict`, `stale_version`)',
  '413': 'The body is larger than API_BODY_LIMIT_KIB (`payload_too_large`)',
  '422': 'The data breaks a rule (`unprocessable`)',
  '429': 'Rate limited: wait `Retry-After` seconds (`too_many_requests`)',
  '500': 'Something went wrong on the server (`internal`)'
};

/** JSON Schema of what a request may send (before zod's coercions and transforms). */
function inputSchema(schema: z.ZodType): Json {
  const json = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12'
  }) as Json;
  delete json.$schema;
  return json;
}

function parameters(doc: RouteDoc['validates'], where: 'path' | 'query'): Json[] {
  if (!doc) return [];
  const json = inputSchema(doc.schema);
  const properties = (json.properties ?? {}) as Record<string, Json>;
  const required = new Set((json.required as string[] | undefined) ?? []);
  return Object.entries(properties).map(([name, schema]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema
  }));
}

function operationId(method: string, path: string) {
  const words = path
    .replace(/^\/api\//, '')
    .split(/[/\-.{}:]+/)
    .filter(Boolean)
    .map((w, i) => (i === 0 ? w : w[0].toUpperCase() + w.slice(1)));
  return `${method.toLowerCase()}${words.map((w) => w[0].toUpperCase() + w.slice(1)).join('')}`;
}

function whoMayCall(docs: RouteDoc[], access: string | undefined): string {
  const roles = docs.find((d) => d.roles)?.roles;
  const integration = docs.some((d) => d.integration);
  const who =
    roles === undefined
      ? 'Anyone (the route may check more itself).'
      : roles === 'signed-in'
        ? 'Any signed-in user.'
        : `Users with the ${roles.join(' or ')} role.`;
  const token =
    access === 'open'
      ? ''
      : access === undefined || access === 'session'
        ? ' Browser sessions only: API tokens are refused.'
        : ` API tokens need the \`${access}\` scope (and act as their owner).`;
  return `${who}${integration ? ' Also the deprecated INTEGRATION_TOKEN.' : ''}${token}`;
}

/**
 * The OpenAPI 3.1 document of `app`, built from its routes: every route, its zod request schemas
 * (as JSON Schema, `z.toJSONSchema`), who may call it (its auth middlewares and the scope table)
 * and the errors it may answer, all in the one error shape.
 */
/** What the document is built from: an app's routes (every middleware and handler, in order). */
export interface RoutedApp {
  routes: readonly { method: string; path: string; handler: unknown }[];
}

export function buildOpenApi(app: RoutedApp, info: { version: string }): Json {
  const routes = new Map<string, { method: string; path: string; docs: RouteDoc[] }>();
  for (const r of app.routes) {
    if (r.method === 'ALL') continue;
    const key = `${r.method} ${r.path}`;
    const entry = routes.get(key) ?? { method: r.method, path: r.path, docs: [] };
    const doc = routeDocOf(r.handler);
    if (doc) entry.docs.push(doc);
    routes.set(key, entry);
  }
  const paths: Record<string, Json> = {};
  for (const { method, path, docs } of [...routes.values()].sort((a, b) => a.path.localeCompare(b.path))) {
    const openPath = path.replace(/:(\w+)/g, '{$1}');
    const validated = (target: string) => docs.find((d) => d.validates?.target === target)?.validates;
    const access = routeAccess(method, path);
    const authenticated = docs.some((d) => d.roles) || (access !== undefined && access !== 'open');
    const json = validated('json');
    const pathNames = [...path.matchAll(/:(\w+)/g)].map((m) => m[1]);
    const pathParams = validated('param')
      ? parameters(validated('param'), 'path')
      : pathNames.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
    const errors = ['400', '500'];
    if (authenticated) errors.push('401', '403', '429');
    if (pathNames.length > 0) errors.push('404');
    if (method !== 'GET') errors.push('403', '409', '413', '422');
    const responses: Record<string, Json> = {
      '200': {
        description: 'Success (201 when something was created)',
        content: { 'application/json': { schema: {} } }
      }
    };
    for (const status of [...new Set(errors)].sort())
      responses[status] = { $ref: `#/components/responses/Error${status}` };
    const operation: Json = {
      operationId: operationId(method, openPath),
      tags: [path.split('/')[2] ?? 'api'],
      description: whoMayCall(docs, access),
      parameters: [...pathParams, ...parameters(validated('query'), 'query')],
      responses,
      security:
        access === 'open' && !authenticated
          ? [{}]
          : access && access !== 'session' && access !== 'open'
            ? [{ session: [] }, { apiToken: [access] }]
            : [{ session: [] }]
    };
    if (json)
      operation.requestBody = {
        required: true,
        content: { 'application/json': { schema: inputSchema(json.schema) } }
      };
    paths[openPath] = { ...(paths[openPath] ?? {}), [method.toLowerCase()]: operation };
  }
  const errorResponses = Object.fromEntries(
    Object.entries(ERROR_TEXT).map(([status, description]) => [
      `Error${status}`,
      {
        description,
        ...(status === '429'
          ? { headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } } }
          : {}),
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } }
      }
    ])
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'Pulse API',
      version: info.version,
      description:
        'The API the Pulse screens use. Browsers sign in with a session cookie (and send Origin on changes); integrations send `Authorization: Bearer pulse_…` with an API token whose scopes cover the route. Every failure answers with one error shape. See docs/api.md.'
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas: { Error: inputSchema(ErrorBodySchema) },
      responses: errorResponses,
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'pulse_session' },
        apiToken: { type: 'http', scheme: 'bearer', description: 'An API token: `pulse_` and 40 characters' }
      }
    }
  };
}
