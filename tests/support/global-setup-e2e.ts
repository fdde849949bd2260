import path from 'node:path';
import { ensureFrontendBuilt } from '../../server/frontend-build.js';
import { ensureChromium } from './chromium.js';

/** The browser tests drive the built app, as `npm start` serves it, in Debian's Chromium. */
export default async function setup() {
  ensureFrontendBuilt(path.resolve(import.meta.dirname, '../..'), (m) => process.stdout.write(`${m}\n`));
  // Installed here, once, where that is allowed (a test hook would time out on it); where it is
  // not, each browser test fails with the one line saying how to install it.
  await ensureChromium().catch(() => undefined);
}
