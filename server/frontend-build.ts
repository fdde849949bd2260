import { execFile, spawnSync } from 'node:child_process';
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

/** `vite build` as a Node process: the same in both ways of running it below. */
const viteBuild = (root: string) => ({
  file: process.execPath,
  args: [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'],
  options: { cwd: root, encoding: 'utf8' as const, maxBuffer: 64 * 1024 * 1024 }
});

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

/** Builds the SvelteKit SPA when needed, so `npm start` always serves the current frontend. */
export function ensureFrontendBuilt(root: string, log: (msg: string) => void) {
  if (!frontendIsStale(root)) return;
  log('Building the frontend (vite build)...');
  const started = Date.now();
  const { file, args, options } = viteBuild(root);
  const result = spawnSync(file, args, options);
  if (result.status !== 0) {
    process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}`);
    throw new Error('The frontend build failed');
  }
  log(`Frontend built in ${seconds(started)} s.`);
}

/**
 * The same build in the background (the test run starts it and goes on): `done` settles once
 * build/ is current, or rejects with the build's output; `cancel` stops a build under way.
 */
export function buildFrontendInBackground(
  root: string,
  log: (msg: string) => void
): { done: Promise<void>; cancel: () => void } {
  if (!frontendIsStale(root)) return { done: Promise.resolve(), cancel: () => undefined };
  log('Building the frontend (vite build), in the background...');
  const started = Date.now();
  const { file, args, options } = viteBuild(root);
  let cancel = () => undefined as void;
  const done = new Promise<void>((resolve, reject) => {
    const child = execFile(file, args, options, (err, stdout, stderr) => {
      if (err) return reject(new Error(`The frontend build failed:\n${stdout}${stderr}`));
      log(`Frontend built in ${seconds(started)} s.`);
      resolve();
    });
    cancel = () => void child.kill();
  });
  return { done, cancel };
}
