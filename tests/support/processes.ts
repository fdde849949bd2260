import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface ChildServer {
  url: string;
  pid: number;
  /** The exit code once the process has ended (null while it runs). */
  exitCode(): number | null;
  stop(): Promise<void>;
}

/**
 * Starts Pulse in a separate Node process against `databaseUrl`; `config` holds settings for it
 * (as environment variables would give them).
 */
export function startChildServer(
  databaseUrl: string,
  env: Record<string, string> = {},
  config: Record<string, string> = {}
): Promise<ChildServer> {
  const root = path.resolve(import.meta.dirname, '../..');
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'tests/support/child-server.ts'], {
    cwd: root,
    env: { ...process.env, ...env, DATABASE_URL: databaseUrl, PULSE_TEST_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'inherit']
  });
  return new Promise((resolve, reject) => {
    // It starts when it prints its URL or exits; this deadline is only the net for neither (a
    // loaded machine compiles and migrates for tens of seconds).
    const timer = setTimeout(() => reject(new Error('child server did not start within 120 s')), 120_000);
    child.once('exit', (code) => reject(new Error(`child server exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      const { url } = JSON.parse(line) as { url: string };
      resolve({
        url,
        pid: child.pid!,
        exitCode: () => child.exitCode ?? (child.signalCode ? 128 : null),
        stop: () =>
          new Promise<void>((done) => {
            // Already gone (it exited, or a test killed it with a signal).
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          })
      });
    });
  });
}
