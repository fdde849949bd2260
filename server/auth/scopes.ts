import type { ApiScope } from '#shared/schemas/integrations.js';

/**
 * What an API token needs to call a route: a scope, `open` (the route needs no token scope: it is
 * public or authenticates its caller itself, such as a storefront's signed webhook) or `session`
 * (screens and settings only: a token is refused). A route no rule matches is refused to tokens
 * as well; `tests/integration/api-tokens.test.ts` checks that every route of the app has a rule.
 */
export type RouteAccess = ApiScope | 'open' | 'session';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const READ: Method[] = ['GET'];
const WRITE: Method[] = ['POST', 'PUT', 'PATCH', 'DELETE'];
const ANY: Method[] = [...READ, ...WRITE];

interface Rule {
  methods: Method[];
  /** `/api/x` matches that path only; `/api/x*` it and everything under it (`/api/x/1/y`). */
  path: string;
  access: RouteAccess;
}

const rule = (methods: Method[], path: string, access: RouteAccess): Rule => ({ methods, path, access });
/** Reads need `read`, changes `write`. */
const readWrite = (path: string, read: RouteAccess, write: RouteAccess) => [
  rule(READ, path, read),
  rule(WRITE, path, write)
];

/** The one table. First match wins: specific rules stand before the prefixes that contain them. */
export const ROUTE_ACCESS: Rule[] = [
  // Public, or authenticated by the route itself.
  rule(READ, '/api/health', 'open'),
  rule(READ, '/api/meta', 'open'),
  rule(READ, '/api/openapi.json', 'open'),
  rule(READ, '/api/docs*', 'open'),
  // Storefront webhooks and the generic ingest check their own signatures (helper "ingest").
  rule(['POST'], '/api/webhooks/shopify', 'open'),
  rule(['POST'], '/api/webhooks/woocommerce', 'open'),
  rule(['POST'], '/api/ingest/orders', 'open'),

  // Sign-in, people, settings and screens' own state: sessions only. A token never mints tokens.
  rule(ANY, '/api/auth*', 'session'),
  rule(ANY, '/api/me*', 'session'),
  rule(ANY, '/api/users*', 'session'),
  rule(ANY, '/api/teams*', 'session'),
  rule(ANY, '/api/api-tokens*', 'session'),
  rule(ANY, '/api/wallboard*', 'session'),
  rule(ANY, '/api/analytics*', 'session'),
  rule(ANY, '/api/demo-activity', 'session'),
  rule(ANY, '/api/views*', 'session'),
  rule(ANY, '/api/bulk*', 'session'),
  rule(ANY, '/api/imports*', 'session'),
  rule(ANY, '/api/stores*', 'session'),
  rule(WRITE, '/api/custom-attributes*', 'session'),
  rule(WRITE, '/api/canned-responses*', 'session'),
  rule(WRITE, '/api/sla-policies', 'session'),
  // Campaigns are managed on their screens (a launch hands out points and codes): sessions only.
  rule(ANY, '/api/campaigns*', 'session'),

  // Support.
  ...readWrite('/api/tickets*', 'tickets:read', 'tickets:write'),
  rule(['POST'], '/api/inbound', 'tickets:write'),
  rule(READ, '/api/canned-responses*', 'tickets:read'),
  rule(READ, '/api/sla-policies', 'tickets:read'),
  rule(READ, '/api/agents', 'tickets:read'),

  // Commerce: the lists (GET /api/customers|orders|products), the 360, order and product pages.
  ...readWrite('/api/customers*', 'customers:read', 'customers:write'),
  // Segments: a draft's count and preview are reads sent as POST (the rule is the body).
  rule(['POST'], '/api/segments/count', 'customers:read'),
  rule(['POST'], '/api/segments/preview', 'customers:read'),
  ...readWrite('/api/segments*', 'customers:read', 'customers:write'),
  ...readWrite('/api/customer-contacts*', 'customers:read', 'customers:write'),
  ...readWrite('/api/customer-notes*', 'customers:read', 'customers:write'),
  ...readWrite('/api/duplicates*', 'customers:read', 'customers:write'),
  rule(READ, '/api/custom-attributes*', 'customers:read'),
  ...readWrite('/api/orders*', 'orders:read', 'orders:write'),
  ...readWrite('/api/products*', 'products:read', 'products:write'),
  ...readWrite('/api/reviews*', 'products:read', 'products:write'),
  ...readWrite('/api/categories*', 'products:read', 'products:write'),
  ...readWrite('/api/loyalty*', 'loyalty:read', 'loyalty:write'),
  // The program and its reports: tokens may read them; editing and publishing are a manager's, in Pulse.
  ...readWrite('/api/loyalty-program*', 'loyalty:read', 'session'),

  // Outbound webhooks.
  rule(ANY, '/api/webhook-subscriptions*', 'webhooks:manage')
];

function matches(pattern: string, path: string): boolean {
  if (!pattern.endsWith('*')) return path === pattern;
  const prefix = pattern.slice(0, -1);
  return path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}.`);
}

/** What a token needs for `method path` (a request's path or a route's pattern); undefined: no rule. */
export function routeAccess(method: string, path: string): RouteAccess | undefined {
  const m = (method === 'HEAD' ? 'GET' : method) as Method;
  const normalised = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return ROUTE_ACCESS.find((r) => r.methods.includes(m) && matches(r.path, normalised))?.access;
}
