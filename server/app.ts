import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ErrorBody } from '#shared/errors.js';
import { sessionMiddleware } from './auth/middleware.js';
import { apiTokenMiddleware } from './auth/token-auth.js';
import type { AppDeps } from './deps.js';
import { AppError, fromDatabaseError } from './errors.js';
import type { AppEnv } from './http/env.js';
import { originCheck, originHeaders } from './http/origin-check.js';
import type { RoutedApp } from './http/openapi.js';
import { apiRateLimit } from './http/rate-limit.js';
import { requestContext } from './http/request-context.js';
import { streamPosition } from './http/stream-position.js';
import { wholeBody } from './http/whole-body.js';
import { analyticsRoutes } from './routes/analytics.js';
import { apiDocsRoutes } from './routes/api-docs.js';
import { apiTokenRoutes } from './routes/api-tokens.js';
import { authRoutes } from './routes/auth.js';
import {
  customAttributeRoutes,
  customerContactRoutes,
  customerNoteRoutes,
  customerRoutes
} from './routes/customers.js';
import { bulkRoutes } from './routes/bulk.js';
import { categoryRoutes } from './routes/categories.js';
import { exceptImportUploads, importRoutes } from './routes/imports.js';
import { campaignRoutes } from './routes/campaigns.js';
import { demoActivityRoutes } from './routes/demo-activity.js';
import { healthRoutes } from './routes/health.js';
import { listRoutes, viewRoutes } from './routes/lists.js';
import { loyaltyRoutes } from './routes/loyalty.js';
import { loyaltyProgramRoutes } from './routes/loyalty-program.js';
import { customerMergeRoutes, duplicateRoutes } from './routes/merge.js';
import { metaRoutes } from './routes/meta.js';
import { productRoutes, reviewRoutes } from './routes/products.js';
import {
  agentRoutes,
  cannedRoutes,
  inboundRoutes,
  meRoutes,
  orderRoutes,
  slaRoutes
} from './routes/support.js';
import { segmentRoutes } from './routes/segments.js';
import { teamRoutes } from './routes/teams.js';
import { ticketRoutes } from './routes/tickets.js';
import { userRoutes } from './routes/users.js';
import { wallboardRoutes } from './routes/wallboard.js';
import { webhookSubscriptionRoutes } from './routes/webhooks.js';
import { ingestRoutes, storeRoutes, storefrontWebhookRoutes } from './routes/storefront.js';
import { audit } from './services/audit.js';

/** The API, chained so that `AppType` carries every route's types to the browser client. */
export function createApi(deps: AppDeps) {
  // The OpenAPI document is built from the finished app's own routes.
  const self: { api?: RoutedApp } = {};
  const api = new Hono<AppEnv>()
    .basePath('/api')
    .use(originHeaders(deps.config.TRUST_PROXY))
    .use(originCheck(deps.config.ALLOWED_ORIGINS))
    // Before any route: the whole body, refused over the limit (by Content-Length at once, a chunked
    // body as it arrives) or when it never arrives whole.
    .use(exceptImportUploads(wholeBody(deps.config.API_BODY_LIMIT_KIB * 1024)))
    .use(sessionMiddleware(deps.auth))
    // A bearer API token acts as its owner within its scopes (auth/scopes.ts), or is refused.
    .use(apiTokenMiddleware(deps.db))
    .use(
      apiRateLimit({
        token: { perSecond: deps.config.API_TOKEN_RATE_PER_SECOND, burst: deps.config.API_TOKEN_RATE_BURST },
        session: {
          perSecond: deps.config.API_SESSION_RATE_PER_SECOND,
          burst: deps.config.API_SESSION_RATE_BURST
        }
      })
    )
    .route('/health', healthRoutes(deps))
    .route('/', apiDocsRoutes(self))
    // A server setting, not a screen's live state: no stream position.
    .route('/demo-activity', demoActivityRoutes(deps))
    // Every answer after this line that a screen may build live state from says where in the stream it stands.
    .use(streamPosition(deps.db))
    .route('/meta', metaRoutes(deps))
    // The CRM tables, before any `/:id` route of the same resource so `/summary` is not an id.
    .route('/customers', listRoutes(deps, 'customers'))
    .route('/orders', listRoutes(deps, 'orders'))
    .route('/products', listRoutes(deps, 'products'))
    .route('/views', viewRoutes(deps))
    .route('/auth', authRoutes(deps))
    .route('/teams', teamRoutes(deps))
    .route('/users', userRoutes(deps))
    .route('/tickets', ticketRoutes(deps))
    .route('/inbound', inboundRoutes(deps))
    .route('/canned-responses', cannedRoutes(deps))
    .route('/sla-policies', slaRoutes(deps))
    .route('/agents', agentRoutes(deps))
    .route('/me', meRoutes(deps))
    .route('/orders', orderRoutes(deps))
    .route('/products', productRoutes(deps))
    .route('/reviews', reviewRoutes(deps))
    .route('/wallboard', wallboardRoutes(deps))
    .route('/analytics', analyticsRoutes(deps))
    .route('/customers', customerRoutes(deps))
    .route('/customer-contacts', customerContactRoutes(deps))
    .route('/customer-notes', customerNoteRoutes(deps))
    .route('/custom-attributes', customAttributeRoutes(deps))
    .route('/customers', customerMergeRoutes(deps))
    .route('/duplicates', duplicateRoutes(deps))
    .route('/bulk', bulkRoutes(deps))
    .route('/imports', importRoutes(deps))
    .route('/api-tokens', apiTokenRoutes(deps))
    .route('/webhook-subscriptions', webhookSubscriptionRoutes(deps))
    .route('/loyalty', loyaltyRoutes(deps))
    .route('/webhooks', storefrontWebhookRoutes(deps))
    .route('/ingest', ingestRoutes(deps))
    .route('/stores', storeRoutes(deps))
    .route('/categories', categoryRoutes(deps))
    .route('/loyalty-program', loyaltyProgramRoutes(deps))
    .route('/campaigns', campaignRoutes(deps))
    .route('/segments', segmentRoutes(deps));
  self.api = api;
  return api;
}

export type AppType = ReturnType<typeof createApi>;

export interface CreateAppOptions {
  /** Directory of the built SPA; when absent only the API is served. */
  staticDir?: string;
}

export function createApp(deps: AppDeps, options: CreateAppOptions = {}) {
  const app = new Hono<AppEnv>();
  app.use(requestContext(deps.logger, deps.config.TRUST_PROXY));
  app.use(
    secureHeaders({
      xFrameOptions: 'DENY',
      referrerPolicy: 'same-origin',
      crossOriginOpenerPolicy: 'same-origin'
    })
  );
  app.route('/', createApi(deps));

  app.notFound((c) => {
    if (c.req.path.startsWith('/api/') || c.req.path === '/api') {
      return c.json<ErrorBody>(
        { error: { code: 'not_found', message: `No route for ${c.req.method} ${c.req.path}` } },
        404
      );
    }
    return c.text('Not found', 404);
  });

  app.onError(async (err, c) => {
    const known = toAppError(err);
    if (known) {
      if (known.code === 'forbidden') {
        await audit(deps.db, {
          action: 'access.denied',
          actorUserId: c.var.user?.id ?? null,
          targetType: 'route',
          targetId: `${c.req.method} ${c.req.path}`,
          ip: c.var.ip,
          details: { message: known.message }
        }).catch((e) => c.var.log?.error({ err: e }, 'audit failed'));
      }
      for (const [k, v] of Object.entries(known.headers ?? {})) c.header(k, v);
      const body: ErrorBody = { error: { code: known.code, message: known.message } };
      if (known.details !== undefined) body.error.details = known.details;
      return c.json(body, known.status as 400);
    }
    (c.var.log ?? deps.logger).error({ err }, 'unhandled error');
    return c.json<ErrorBody>(
      { error: { code: 'internal', message: 'Something went wrong on our side' } },
      500
    );
  });

  if (options.staticDir && existsSync(options.staticDir)) mountSpa(app, options.staticDir);
  return app;
}

function toAppError(err: unknown): AppError | null {
  if (err instanceof AppError) return err;
  if (err instanceof HTTPException) {
    // Hono's own refusals: malformed JSON, body too large, and the like.
    return new AppError(err.status === 401 ? 'unauthenticated' : 'bad_request', err.message || 'Bad request');
  }
  return fromDatabaseError(err);
}

/** Serves the built SvelteKit SPA: hashed assets cached forever, every other path gets the app shell. */
function mountSpa(app: Hono<AppEnv>, dir: string) {
  const root = path.relative(process.cwd(), dir) || '.';
  // Re-read when a rebuild replaces it, so a running server never serves a shell whose assets are gone.
  const shellPath = path.join(dir, '200.html');
  let shell = { html: readFileSync(shellPath, 'utf8'), mtime: statSync(shellPath).mtimeMs };
  const currentShell = () => {
    const mtime = statSync(shellPath, { throwIfNoEntry: false })?.mtimeMs;
    if (mtime && mtime !== shell.mtime) shell = { html: readFileSync(shellPath, 'utf8'), mtime };
    return shell.html;
  };
  app.use('/_app/immutable/*', async (c, next) => {
    await next();
    if (c.res.status === 200) c.header('Cache-Control', 'public, max-age=31536000, immutable');
  });
  app.use('*', serveStatic({ root }));
  app.get('*', (c) => {
    if (c.req.path.startsWith('/api/') || c.req.path.startsWith('/socket.io/')) return c.notFound();
    c.header('Cache-Control', 'no-cache');
    return c.html(currentShell());
  });
}
