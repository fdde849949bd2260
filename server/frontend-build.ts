import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const SOURCES = ['src', 'static', 'svelte.config.js', 'vite.config.ts', 'package-lock.json'];

/** The newest modification time of a file or of anything under a folder (0 when missing). */
export function newestMtime(entry: string): number {
  if (!existsSync(entry)) return 0;
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const child of readdirSync(entry)) newest = Math.max(newest, newestMtime(path.join(entry, child)));
  return newest;
}

/** True when build/ is missing or older than any frontend source. */
export function frontendIsStale(root: string): boolean {
  const shell = path.join(root, 'build', '200.html');
  if (!existsSync(shell)) return true;
  const built = statSync(shell).mtimeMs;
  return SOURCES.some((s) => newestMtime(path.join(root, s)) > built);
}

/** Builds the SvelteKit SPA when needed, so `npm start` always serves the current frontend. */
export function ensureFrontendBuilt(root: string, log: (msg: string) => void) {
  if (!frontendIsStale(root)) return;
  log('Building the frontend (vite build)...');
  const started = Date.now();
  const result = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'],
    {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024
    }
  );
  if (result.status !== 0) {
    process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}`);
    throw new Error('The frontend build failed');
  }
  log(`Frontend built in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
}
