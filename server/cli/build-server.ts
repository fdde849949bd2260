// npm run build:server (also `prestart`): compiles the server for `npm start` when its sources changed.
import { PROJECT_ROOT } from '../project-root.js';
import { SERVER_BUNDLE, buildServer, serverIsStale } from '../server-build.js';

if (serverIsStale(PROJECT_ROOT)) {
  const started = Date.now();
  process.stdout.write('Compiling the server...\n');
  await buildServer(PROJECT_ROOT);
  process.stdout.write(`Compiled ${SERVER_BUNDLE} in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`);
}
