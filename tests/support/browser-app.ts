import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Config } from '../../server/config.js';
import type { RunningPulse } from '../../server/pulse.js';
import { launchChromium, signInPage } from './browser.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { PASSWORD } from './fixtures.js';
import { startTestServer } from './server.js';

/** What an e2e file drives: its database, a server serving the built app, and Chromium. */
export interface BrowserApp {
  db: TestDatabase;
  server: RunningPulse;
  browser: Browser;
  /** A new browser context signed in as `email` (the fixtures' password) through the login page. */
  signIn(email: string): Promise<{ context: BrowserContext; page: Page }>;
  /** Closes Chromium and the server, and drops the database. */
  close(): Promise<void>;
}

/**
 * The preamble of a browser test file: a database of its own, seeded by `seed` before the server
 * starts (so the server sees the rows from its first query), the server with `config` (settings
 * as environment variables give them), then Chromium. When a step fails, what had started is
 * stopped again before the error is thrown.
 */
export async function startBrowserApp(
  opts: { seed?: (db: TestDatabase) => Promise<void>; config?: Partial<Record<keyof Config, string>> } = {}
): Promise<BrowserApp> {
  let db: TestDatabase | undefined;
  let server: RunningPulse | undefined;
  let browser: Browser | undefined;
  try {
    db = await createTestDatabase();
    await opts.seed?.(db);
    server = await startTestServer(db.url, opts.config, { serveFrontend: true });
    // After the server, as the files did before. Launched meanwhile (a second saved per file),
    // sign-in.test.ts's one-second poll on the first wrong password failed twice on a loaded
    // machine: the first page then reaches a server that has only just started.
    browser = await launchChromium();
    const app: BrowserApp = {
      db,
      server,
      browser,
      signIn: (email) => signInPage(app.browser, app.server.url, email, PASSWORD),
      close: async () => {
        await app.browser.close();
        await app.server.close();
        await app.db.drop();
      }
    };
    return app;
  } catch (err) {
    await browser?.close();
    await server?.close();
    await db?.drop();
    throw err;
  }
}
