// The parts of a chaos run: a Postgres that can be stopped and started, Pulse nodes as separate
// processes on fixed ports (so a killed node comes back where the balancer expects it), and
// HAProxy in front of them, WebSocket-aware.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../db/embedded.js';
import { freePort } from '../support/postgres.js';

const root = path.resolve(import.meta.dirname, '../..');

/** Every process the run started: killed when the run's own process ends, however it ends. */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
const track = (child: ChildProcess) => {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
};

/** Postgres for the run: embedded (which can be stopped and started) or the one DATABASE_URL names. */
export interface ChaosPostgres {
  url: string;
  /** False for a server named by DATABASE_URL: the run cannot stop it, and says so. */
  canStop: boolean;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startChaosPostgres(log: (msg: string) => void): Promise<ChaosPostgres> {
  if (process.env.DATABASE_URL) {
    log(`Postgres: ${new URL(process.env.DATABASE_URL).host} (DATABASE_URL; it will not be stopped)`);
    return {
      url: process.env.DATABASE_URL,
      canStop: false,
      stop: async () => undefined,
      start: async () => undefined,
      close: async () => undefined
    };
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pulse-chaos-'));
  const port = await freePort();
  const boot = () => startEmbeddedPostgres({ dir: path.join(dir, 'data'), port, fast: true });
  let running: EmbeddedDatabase | undefined = await boot();
  log(`Postgres: embedded, port ${port}`);
  return {
    url: running.url,
    canStop: true,
    stop: async () => {
      await running?.stop();
      running = undefined;
    },
    start: async () => {
      running ??= await boot();
    },
    close: async () => {
      await running?.stop().catch(() => undefined);
      running = undefined;
      await rm(dir, { recursive: true, force: true });
    }
  };
}

/** One Pulse process. Its log (pino JSON lines) goes to `logFile`, across restarts. */
export class PulseNode {
  private child: ChildProcess | null = null;
  readonly url: string;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly databaseUrl: string,
    readonly logFile: string
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  get pid() {
    return this.child?.pid ?? null;
  }

  async start() {
    const log = createWriteStream(this.logFile, { flags: 'a' });
    const child = track(
      spawn(process.execPath, ['--import', 'tsx', 'server/index.ts'], {
        cwd: root,
        env: {
          ...process.env,
          NODE_ENV: 'production',
          DATABASE_URL: this.databaseUrl,
          PORT: String(this.port),
          HOST: '127.0.0.1',
          LOG_LEVEL: 'info',
          SERVE_FRONTEND: 'false',
          SEED_DEMO_DATA: 'false',
          DEMO_ACTIVITY: 'off',
          // The run's clients are many sessions of few users, from one address.
          API_SESSION_RATE_PER_SECOND: '0'
        },
        stdio: ['ignore', 'pipe', 'pipe']
      })
    );
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    this.child = child;
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null)
        throw new Error(`${this.name} exited with ${child.exitCode} (see ${this.logFile})`);
      const up = await fetch(`${this.url}/api/health`).then(
        (r) => r.ok,
        () => false
      );
      if (up) return;
      await delay(200);
    }
    throw new Error(`${this.name} did not answer within 180 s (see ${this.logFile})`);
  }

  /** SIGKILL: no shutdown, sockets cut, as a crashed machine. */
  kill() {
    this.child?.kill('SIGKILL');
    this.child = null;
  }

  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((done) => {
      child.once('exit', () => done());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    });
    this.child = null;
  }

  /** Every JSON line the node logged. */
  async logLines(): Promise<Record<string, unknown>[]> {
    const text = await readFile(this.logFile, 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return {};
        }
      });
  }
}

/** HAProxy from Debian's packages: found, or installed when the run may (root with apt-get). */
export function findHaproxy(log: (msg: string) => void): string {
  const known = ['/usr/sbin/haproxy', '/usr/bin/haproxy', '/usr/local/sbin/haproxy'].find((p) =>
    existsSync(p)
  );
  if (known) {
    log(`HAProxy: ${known} (${execFileSync(known, ['-v'], { encoding: 'utf8' }).split('\n')[0]})`);
    return known;
  }
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get'))
    throw new Error('HAProxy is not installed; install it (apt-get install haproxy) and run again');
  log('HAProxy: not found; installing it with apt-get (Debian package haproxy)...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
  execFileSync('apt-get', ['install', '-y', '-qq', 'haproxy'], { stdio: 'ignore', env });
  return findHaproxy(log);
}

/** HAProxy balancing HTTP and WebSocket round-robin over the nodes; a dead node is skipped. */
export class Balancer {
  private child: ChildProcess | null = null;
  readonly url: string;

  constructor(
    private readonly binary: string,
    readonly port: number,
    private readonly nodes: { name: string; port: number }[],
    private readonly dir: string
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  async start() {
    const config = [
      'global',
      // Two descriptors per proxied connection, under the machine's open-file limit.
      '  maxconn 8000',
      'defaults',
      '  mode http',
      '  timeout connect 2s',
      '  timeout client 60s',
      '  timeout server 60s',
      // An upgraded WebSocket is a tunnel: idle for as long as a screen is open.
      '  timeout tunnel 1h',
      '  retries 2',
      '  option redispatch',
      'frontend pulse',
      `  bind 127.0.0.1:${this.port}`,
      '  default_backend nodes',
      'backend nodes',
      '  balance roundrobin',
      // A TCP check: a node is out when its process is, not when Postgres is (both would be).
      '  default-server inter 500ms fall 2 rise 1',
      ...this.nodes.map((n) => `  server ${n.name} 127.0.0.1:${n.port} check`)
    ].join('\n');
    const file = path.join(this.dir, 'haproxy.cfg');
    await writeFile(file, `${config}\n`);
    execFileSync(this.binary, ['-c', '-q', '-f', file]);
    const log = createWriteStream(path.join(this.dir, `haproxy-${this.port}.log`), { flags: 'a' });
    const child = track(spawn(this.binary, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] }));
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    this.child = child;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null)
        throw new Error(`HAProxy exited with ${child.exitCode} (see ${this.dir}/haproxy-${this.port}.log)`);
      const up = await fetch(`${this.url}/api/health`).then(
        (r) => r.status < 500,
        () => false
      );
      if (up) return;
      await delay(100);
    }
    throw new Error(`HAProxy did not start (see ${this.dir}/haproxy-${this.port}.log)`);
  }

  stop() {
    this.child?.kill('SIGTERM');
    this.child = null;
  }
}

export { freePort };
