/**
 * npm run simulate -- [--rate 5] [--seconds N] [--events N] [--seed N]
 * Writes live business activity into Postgres (DATABASE_URL, or the embedded one `npm start` runs).
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { DEFAULT_EMBEDDED_PG_PORT } from '../../server/config.js';
import { NothingToSimulateError, Simulator, type EventKind } from './simulator.js';

const USAGE = `Usage: npm run simulate -- [options]

Writes realistic business activity straight into Postgres: orders placed, paid, shipped, delivered,
refunded and cancelled (with their loyalty points); tickets opened, answered, resolved and rated;
points redeemed; new members. Every screen of a running Pulse moves with it. Ctrl-C stops it.

  --rate <n>      events per second (default 2; decimals allowed)
  --seconds <n>   stop after this many seconds
  --events <n>    stop after this many events
  --seed <n>      random seed (default: from the clock)
  -h, --help      show this help

Database: DATABASE_URL, or the embedded Postgres of \`npm start\` (127.0.0.1:$EMBEDDED_PG_PORT, default ${DEFAULT_EMBEDDED_PG_PORT}).`;

function fail(message: string, code = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function positive(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    fail(`--${name} must be a positive number, got "${text}".\n\n${USAGE}`);
  return value;
}

const redact = (url: string) => url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');

/** What the running count line shows. */
const SHOWN: [string, EventKind[]][] = [
  ['orders', ['order_placed']],
  ['shipped', ['order_shipped', 'order_delivered']],
  ['refunds', ['order_refunded', 'order_cancelled']],
  ['tickets', ['ticket_opened']],
  ['replies', ['ticket_answered', 'customer_replied']],
  ['resolved', ['ticket_resolved', 'ticket_closed']],
  ['csat', ['csat_recorded']],
  ['loyalty', ['points_redeemed', 'member_joined']]
];

async function main() {
  let values: { rate?: string; seconds?: string; events?: string; seed?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        rate: { type: 'string' },
        seconds: { type: 'string' },
        events: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' }
      }
    }));
  } catch (error) {
    fail(`${(error as Error).message}\n\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const rate = positive('rate', values.rate) ?? 2;
  const seconds = positive('seconds', values.seconds);
  const maxEvents = positive('events', values.events);
  const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
  if (!Number.isInteger(seed)) fail(`--seed must be an integer, got "${values.seed}".`);

  const url =
    process.env.DATABASE_URL ??
    (await import('../embedded.js')).embeddedUrl(
      Number(process.env.EMBEDDED_PG_PORT ?? DEFAULT_EMBEDDED_PG_PORT)
    );
  const pool = new pg.Pool({
    connectionString: url,
    max: 2,
    application_name: 'pulse-simulate',
    connectionTimeoutMillis: 5000
  });
  pool.on('error', () => undefined);
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    fail(
      `Cannot reach Postgres at ${redact(url)}: ${(error as Error).message}\n` +
        (process.env.DATABASE_URL
          ? 'Check DATABASE_URL.'
          : 'Start Pulse first (npm start runs the embedded Postgres), or set DATABASE_URL to the database to write to.'),
      1
    );
  }

  let simulator: Simulator;
  try {
    simulator = await Simulator.create(pool, seed);
  } catch (error) {
    await pool.end();
    if (error instanceof NothingToSimulateError) fail(error.message, 1);
    if ((error as { code?: string }).code === '42P01')
      fail('The database has no Pulse schema: run npm run db:migrate (or npm start) first.', 1);
    throw error;
  }

  const say = (line: string) => process.stderr.write(line);
  const tty = process.stderr.isTTY;
  let stopping = false;
  process.on('SIGINT', () => (stopping = true));
  process.on('SIGTERM', () => (stopping = true));
  say(`Simulating ${rate} events/s on ${redact(url)} (seed ${seed}). Ctrl-C stops.\n`);

  const started = performance.now();
  const line = () => {
    const elapsed = (performance.now() - started) / 1000;
    const parts = SHOWN.map(
      ([label, kinds]) => `${kinds.reduce((n, k) => n + simulator.counts[k], 0)} ${label}`
    );
    return `${simulator.total} events in ${elapsed.toFixed(0)} s (${(simulator.total / Math.max(elapsed, 0.001)).toFixed(1)}/s): ${parts.join(', ')}${simulator.errors ? `, ${simulator.errors} errors` : ''}`;
  };
  const progress = setInterval(() => say(tty ? `\r${line()}\x1b[K` : `${line()}\n`), tty ? 1000 : 10_000);

  for (let i = 0; !stopping; i++) {
    if (maxEvents !== undefined && i >= maxEvents) break;
    if (seconds !== undefined && performance.now() - started >= seconds * 1000) break;
    // Paced, catching up when an event ran late; Ctrl-C is noticed within a quarter second.
    const due = started + (i * 1000) / rate;
    for (let wait = due - performance.now(); wait > 0 && !stopping; wait = due - performance.now()) {
      await new Promise((r) => setTimeout(r, Math.min(wait, 250)));
    }
    if (stopping) break;
    try {
      await simulator.step();
    } catch (error) {
      say(`${tty ? '\n' : ''}event failed: ${simulator.lastError}\n`);
      if (
        (error as { code?: string }).code === 'ECONNREFUSED' ||
        (error as Error).message.includes('terminat')
      ) {
        say('Lost the database connection; stopping.\n');
        break;
      }
    }
  }
  clearInterval(progress);
  say(`${tty ? '\r' : ''}${line()}\n`);
  await pool.end();
  process.exitCode = simulator.errors > 0 ? 1 : 0;
}

main().catch((error) => {
  process.stderr.write(`simulate failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
