import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildFrontendInBackground } from '../../server/frontend-build.js';
import { ensureChromium } from './chromium.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Answers once the frontend build the run started is done: 200, or 500 with the build's output. */
    frontendBuildUrl: string;
  }
}

/**
 * The browser tests drive the built app, as `npm start` serves it, in Debian's Chromium. The build
 * runs in the background, so the other files run meanwhile; each e2e file waits for it first
 * (tests/support/frontend-ready.ts) by asking `frontendBuildUrl`, which answers when it is done.
 */
export default async function setup(project: TestProject) {
  const build = buildFrontendInBackground(path.resolve(import.meta.dirname, '../..'), (m) =>
    process.stdout.write(`${m}\n`)
  );
  build.done.catch((err: Error) => process.stderr.write(`${err.message}\n`));
  const gate = createServer((_req, res) =>
    build.done.then(
      () => res.end('built'),
      (err: Error) => {
        res.statusCode = 500;
        res.end(err.message);
      }
    )
  );
  await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
  project.provide('frontendBuildUrl', `http://127.0.0.1:${(gate.address() as AddressInfo).port}/`);
  // Installed here, once, where that is allowed (a test hook would time out on it); where it is
  // not, each browser test fails with the one line saying how to install it.
  await ensureChromium().catch(() => undefined);

  return async () => {
    build.cancel(); // a run cut short leaves no build behind
    gate.closeAllConnections();
    await new Promise((resolve) => gate.close(resolve));
  };
}
