import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPulse } from '../../server/pulse.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestServer } from '../support/server.js';
import { appRouteKeys } from '../support/routes.js';

// The OpenAPI document Pulse serves is valid OpenAPI 3.1, lists every route of the app with its
// errors in the one error shape, and the docs page loads its assets from Pulse itself.

let db: TestDatabase;
let server: RunningPulse;
let doc: Record<string, any>;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  const res = await fetch(new URL('/api/openapi.json', server.url));
  expect(res.status).toBe(200);
  doc = await res.json();
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

describe('/api/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('lists every route of the app, each with the one error shape', () => {
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`)
      )
      .sort();
    expect(documented).toEqual(appRouteKeys(db.sql));
    for (const ops of Object.values(doc.paths as Record<string, Record<string, any>>))
      for (const op of Object.values(ops)) {
        expect(op.responses['400'].$ref).toBe('#/components/responses/Error400');
        expect(op.responses['500']).toBeDefined();
      }
    expect(doc.components.schemas.Error.properties.error.required).toEqual(['code', 'message']);
  });

  it('carries the request schemas from zod, and the scope a token needs', () => {
    const patch = doc.paths['/api/tickets/{id}'].patch;
    expect(patch.requestBody.content['application/json'].schema.properties).toHaveProperty('version');
    expect(patch.parameters.find((p: { name: string }) => p.name === 'id').in).toBe('path');
    expect(patch.security).toEqual([{ session: [] }, { apiToken: ['tickets:write'] }]);
    expect(patch.responses['429'].$ref).toBe('#/components/responses/Error429');
    const queue = doc.paths['/api/tickets'].get;
    expect(queue.parameters.map((p: { name: string }) => p.name)).toContain('view');
    expect(doc.paths['/api/users'].get.security).toEqual([{ session: [] }]);
  });
});

describe('/api/docs', () => {
  it('is served with its assets by Pulse (no CDN)', async () => {
    const page = await fetch(new URL('/api/docs', server.url));
    expect(page.status).toBe(200);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const asset of assets) {
      expect(asset.startsWith('/api/docs/'), asset).toBe(true);
      expect((await fetch(new URL(asset, server.url))).status, asset).toBe(200);
    }
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect((await fetch(new URL('/api/docs/..%2Fpackage.json', server.url))).status).toBe(404);
  });
});
