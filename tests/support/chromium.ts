import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where a system Chromium usually is, after `CHROMIUM_PATH`. */
const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable'
];
const LOCK = path.join(os.tmpdir(), 'pulse-chromium-install.lock');
/** A lock older than this was left by an install that died. */
const STALE_LOCK_MS = 15 * 60_000;

const say = (line: string) => process.stderr.write(`${line}\n`);

function found(): string | null {
  const wanted = process.env.CHROMIUM_PATH;
  if (wanted) return existsSync(wanted) ? wanted : null;
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

function canInstall(): boolean {
  return (
    process.getuid?.() === 0 &&
    spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0
  );
}

/**
 * The browser tests' Chromium: `CHROMIUM_PATH`, then the usual system paths. When none is there
 * and this process may install system packages (root with apt-get), it installs Debian's
 * `chromium` once (other test workers wait for it); otherwise it fails with one line saying how.
 */
export async function ensureChromium(): Promise<string> {
  const present = found();
  if (present) return present;
  if (process.env.CHROMIUM_PATH) throw new Error(`CHROMIUM_PATH=${process.env.CHROMIUM_PATH} does not exist`);
  if (!canInstall()) {
    throw new Error(
      'Chromium is needed for the browser tests: install it (Debian/Ubuntu: sudo apt-get install -y chromium) or set CHROMIUM_PATH'
    );
  }
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      const age = Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 1000));
      const now = found();
      if (now) return now;
    }
  }
  try {
    const again = found();
    if (again) return again;
    say(
      "Chromium is missing: installing Debian's chromium for the browser tests (apt-get, about a minute)..."
    );
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env
    });
    const installed = found();
    if (!installed) throw new Error('apt-get installed chromium, but no Chromium binary was found');
    say(`Chromium installed at ${installed}.`);
    return installed;
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
