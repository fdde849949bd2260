import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { newestMtime } from './frontend-build.js';

// `npm start` runs the server compiled to one JavaScript module, not TypeScript through tsx: tsx
// compiles in a loader thread of its own (a second V8 heap) beside an esbuild service process,
// which held about 70 MiB of the server's ~220 MiB at boot (docs/performance.md, "The server's
// memory"). `prestart` builds it when any source is newer than the build, as the frontend is.

/** The compiled server `npm start` runs, relative to the project's root. */
export const SERVER_BUNDLE = 'dist/server/index.mjs';

/** Everything the server's module graph is made of (its npm packages stay outside the bundle). */
const SOURCES = ['server', 'db', 'src/lib/shared', 'package.json', 'package-lock.json', 'tsconfig.json'];

/** True when the compiled server is missing or older than any of its sources. */
export function serverIsStale(root: string): boolean {
  const bundle = path.join(root, SERVER_BUNDLE);
  if (!existsSync(bundle)) return true;
  const built = statSync(bundle).mtimeMs;
  return SOURCES.some((s) => newestMtime(path.join(root, s)) > built);
}

/**
 * Compiles server/index.ts and what it imports from the project into SERVER_BUNDLE with Vite (the
 * same toolchain as the frontend), npm packages left as imports, with a source map for stack traces.
 */
export async function buildServer(root: string): Promise<void> {
  const { build } = await import('vite');
  await build({
    configFile: false,
    root,
    logLevel: 'warn',
    build: {
      ssr: path.join(root, 'server/index.ts'),
      outDir: path.join(root, path.dirname(SERVER_BUNDLE)),
      emptyOutDir: true,
      target: 'node20',
      minify: false,
      sourcemap: true,
      rollupOptions: {
        // Stack traces need the map's positions, not the sources' text (two thirds of its size).
        output: { entryFileNames: path.basename(SERVER_BUNDLE), sourcemapExcludeSources: true },
        // db/migrate.ts loads server/db.ts lazily for its CLI; in one bundle that import is a no-op.
        onwarn: (warning, warn) => {
          if (!/dynamically imported .* but also statically imported/.test(warning.message)) warn(warning);
        }
      }
    }
  });
}
