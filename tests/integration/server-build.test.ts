import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_BUNDLE, buildServer, serverIsStale } from '../../server/server-build.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { freePort } from '../support/postgres.js';

// `npm start` runs the server compiled into one module (dist/server/index.mjs). What it reads from
// disk it finds from the project's root, not from where its module sits: the migrations (it
// migrates an empty database), the package's version (the API document) and the npm packages.

const root = path.resolve(import.meta.dirname, '../..');
let db: TestDatabase;
let child: ChildProcess;
let base: string;
let serverPort: number;

beforeAll(async () => {
  if (serverIsStale(root)) await buildServer(root);
  db = await createTestDatabase({ empty: true });
  const port = await freePort();
  child = spawn(process.execPath, ['--enable-source-maps', SERVER_BUNDLE], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      SERVE_FRONTEND: 'false',
      SEED_DEMO_DATA: 'false',
      DEMO_ACTIVITY: 'false'
    },
    stdio: ['ignore', 'pipe', 'inherit']
  });
  base = `http://127.0.0.1:${port}`;
  serverPort = port;
  // It prints its address once it serves.
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(`:${port}`)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the compiled server exited (${code}): ${out}`)));
  });
}, 180_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  await db?.drop();
});

describe('the compiled server (npm start)', () => {
  it('is up to date with its sources after a build', () => {
    expect(serverIsStale(root)).toBe(false);
  });

  it('migrated the empty database with every migration of db/migrations', async () => {
    const files = readdirSync(path.join(root, 'db/migrations'));
    const ups = files.filter((f) => f.endsWith('.up.sql')).length;
    const { rows } = await db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM schema_migrations`);
    expect(rows[0].n).toBe(ups);
  });

  it('serves the API, with the package version in its OpenAPI document', async () => {
    expect((await fetch(`${base}/api/health`)).status).toBe(200);
    const doc = (await (await fetch(`${base}/api/openapi.json`)).json()) as { info: { version: string } };
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
    expect(doc.info.version).toBe(pkg.version);
  });

  it('started a second time on the same port, says so in one line and exits', async () => {
    const second = spawn(process.execPath, ['--enable-source-maps', SERVER_BUNDLE], {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        PORT: String(serverPort),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
        SERVE_FRONTEND: 'false',
        SEED_DEMO_DATA: 'false',
        DEMO_ACTIVITY: 'false'
      },
      stdio: ['ignore', 'ignore', 'pipe']
    });
    let err = '';
    second.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise((resolve) => second.once('exit', resolve));
    expect(code).toBe(1);
    // Its last line (Node may warn before it).
    expect(err.trim().split('\n').at(-1)).toBe(
      `Pulse failed to start: Port ${serverPort} is already in use: another Pulse is probably running there. Stop it, or set PORT to a free port.`
    );
    // The first one still serves.
    expect((await fetch(`${base}/api/health`)).status).toBe(200);
  });
});
