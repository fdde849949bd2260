import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../http/env.js';
import { buildOpenApi, type RoutedApp } from '../http/openapi.js';
import { validate } from '../http/validate.js';
import { notFound } from '../errors.js';
import { PROJECT_ROOT } from '../project-root.js';

const require = createRequire(import.meta.url);
const SWAGGER_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));
const { version } = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  version: string;
};

/** The Swagger UI files the docs page loads, served from the npm package (no CDN). */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png'
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Pulse API</title>
  <link rel="stylesheet" href="/api/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/api/docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/api/docs/swagger-ui-bundle.js"></script>
  <script src="/api/docs/init.js"></script>
</body>
</html>`;

const INIT = `window.ui = SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#swagger-ui', deepLinking: true, tryItOutEnabled: false });`;

// Scripts only from Pulse itself; Swagger UI sets inline styles and draws icons from data: URLs.
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

const AssetParam = z.object({ asset: z.string().max(64) });

/** `/api/openapi.json` (built once from the app's routes) and `/api/docs`, a Swagger UI served by Pulse. */
export const apiDocsRoutes = (self: { api?: RoutedApp }) => {
  let document: Record<string, unknown> | undefined;
  return new Hono<AppEnv>()
    .get('/openapi.json', (c) => c.json((document ??= buildOpenApi(self.api!, { version }))))
    .get('/docs', (c) => {
      c.header('Content-Security-Policy', CSP);
      return c.html(PAGE);
    })
    .get('/docs/:asset', validate('param', AssetParam), async (c) => {
      const { asset } = c.req.valid('param');
      c.header('Content-Security-Policy', CSP);
      if (asset === 'init.js') return c.body(INIT, 200, { 'Content-Type': 'text/javascript; charset=utf-8' });
      const type = Object.hasOwn(ASSETS, asset) ? ASSETS[asset] : undefined;
      if (!type) throw notFound('Asset');
      const body = await readFile(path.join(SWAGGER_DIR, asset));
      return c.body(body, 200, { 'Content-Type': type, 'Cache-Control': 'public, max-age=3600' });
    });
};
