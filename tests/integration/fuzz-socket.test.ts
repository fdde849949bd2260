// Property-based fuzzing of every client-to-server Socket.IO event (src/lib/shared/events.ts
// ClientToServerEvents), as an agent, a manager and a wallboard TV, with random payloads: wrong
// types, huge strings, deep nesting, `__proto__`, arrays, null, binary, missing or extra
// arguments, with and without an ack; and raw frames no client library would send.
// Bounded to a few seconds; FUZZ_RUNS=N runs each property N times.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPulse } from '../../server/pulse.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createCustomer, createOrder, createTicket, createWorld } from '../support/fixtures.js';
import { Browser } from '../support/http.js';
import {
  closeSockets,
  connectSocket,
  openSocket,
  received,
  waitFor,
  whenReady,
  type ClientSocket
} from '../support/socket.js';
import { startTestServer } from '../support/server.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 120);
/** How long a client waits for an ack before calling it unanswered. */
const ACK_MS = 1000;
/** Above the server's 64 KiB message limit: the server may close the socket instead of answering. */
const OVERSIZED = 60 * 1024;

const CLIENT_EVENTS = [
  'ticket:watch',
  'ticket:unwatch',
  'ticket:typing',
  'customer:watch',
  'customer:unwatch',
  'product:watch',
  'product:unwatch',
  'presence:list',
  'wallboard:watch',
  'wallboard:unwatch',
  'live:catch_up'
] as const;

let db: TestDatabase;
let server: RunningPulse;
let world: Awaited<ReturnType<typeof createWorld>>;
let browsers: Record<'agent' | 'manager', Browser>;
let tvToken: string;
let ownTicket: number;
let otherTeamTicket: number;
/** Probes (orders that must reach the bystander) are written for this customer, outside the fingerprint. */
let probeCustomer: number;
let bystander: ClientSocket;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  ownTicket = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
  otherTeamTicket = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamB });
  probeCustomer = await createCustomer(db.sql, 'probe@example.com');
  tvToken = `pwb_fuzz_${'t'.repeat(40)}`;
  await db.sql.query(`INSERT INTO wallboard_tokens (token_hash, name) VALUES ($1, 'Fuzz TV')`, [
    createHash('sha256').update(tvToken).digest('hex')
  ]);
  server = await startTestServer(db.url);
  const [agent, manager] = await Promise.all(
    [world.agentA.email, world.manager.email].map((email) => Browser.signedIn(server.url, email))
  );
  browsers = { agent, manager };
  bystander = await openSocket(server.url, world.manager.email);
});
afterAll(async () => {
  closeSockets();
  await server?.close();
  await db?.drop();
});

// --- Payloads --------------------------------------------------------------------------------

const deeplyNested = (depth: number) => {
  let value: unknown = { ticketId: 1 };
  for (let i = 0; i < depth; i++) value = { a: [value] };
  return value;
};

/** Ids that mean something here (a ticket of the agent's team, one of another team, a customer) and ids at the edges. */
const ids = () =>
  fc.constantFrom<unknown>(
    ownTicket,
    otherTeamTicket,
    world.customerId,
    0,
    -1,
    1.5,
    2 ** 31,
    2 ** 53,
    Number.MAX_SAFE_INTEGER,
    -0,
    1e308,
    `${ownTicket}`
  );

const payload = () =>
  fc.oneof(
    { arbitrary: ids(), weight: 4 },
    {
      arbitrary: fc.record(
        { ticketId: fc.oneof(ids(), fc.anything()), typing: fc.oneof(fc.boolean(), fc.anything()) },
        { requiredKeys: [] }
      ),
      weight: 3
    },
    {
      arbitrary: fc.anything({
        maxDepth: 4,
        withNullPrototype: true,
        withObjectString: true,
        withMap: true,
        withSet: true,
        withDate: true,
        withTypedArray: true,
        withSparseArray: true,
        withUnicodeString: true
      }),
      weight: 4
    },
    fc.constant(null),
    fc.string({ maxLength: 2000 }),
    fc.constantFrom(
      '1; DROP TABLE tickets',
      "' OR 1=1 --",
      '<img src=x onerror=alert(1)>',
      '__proto__',
      'constructor',
      'toString'
    ),
    fc.constantFrom('x'.repeat(70_000), '💥'.repeat(20_000)),
    fc.constant(
      JSON.parse(
        `{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"ticketId":${1}}`
      )
    ),
    fc.constant(deeplyNested(300)),
    fc.uint8Array({ maxLength: 256 }).map((bytes) => Buffer.from(bytes)),
    fc.array(ids(), { maxLength: 50 }),
    // Stream positions (`xmin:xmax:xip`, what live:catch_up takes): plausible, reversed, huge, malformed.
    fc
      .tuple(
        fc.bigInt({ min: 0n, max: 2n ** 64n }),
        fc.bigInt({ min: 0n, max: 2n ** 64n }),
        fc.array(fc.nat(), { maxLength: 5 })
      )
      .map(([a, b, xip]) => `${a}:${b}:${xip.join(',')}`),
    fc.constantFrom('1:1:', '0:0:', '3:2:', '1:5:2,3,4', ':::', 'x:y:z', '')
  );

const eventName = () =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...CLIENT_EVENTS), weight: 8 },
    // Not in the catalogue: server events, look-alikes, names an EventEmitter treats specially.
    fc.constantFrom(
      'error',
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      'TICKET:WATCH',
      'order:created',
      'live:ready',
      'presence:changed',
      ''
    ),
    fc.string({ maxLength: 40 })
  );

// --- What must hold ---------------------------------------------------------------------------

/** An ack is `{ data }` or `{ error: { code, message } }`, nothing else. */
function isCleanAnswer(answer: unknown): boolean {
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return false;
  const keys = Object.keys(answer);
  if (keys.length !== 1) return false;
  if (keys[0] === 'data') return true;
  const error = (answer as { error?: { code?: unknown; message?: unknown } }).error;
  return keys[0] === 'error' && typeof error?.code === 'string' && typeof error.message === 'string';
}

/** Roughly the bytes `args` take on the wire. */
const size = (args: unknown[]) => {
  try {
    const json = JSON.stringify(args, (_k, v) =>
      ArrayBuffer.isView(v) ? 'b'.repeat(v.byteLength) : v instanceof Map || v instanceof Set ? [...v] : v
    );
    return Buffer.byteLength(json ?? '');
  } catch {
    return Infinity;
  }
};

/** Every row a socket event could touch, except the probes'. */
async function fingerprint(): Promise<string> {
  const tables = [
    ['users', ''],
    ['teams', ''],
    ['tickets', ''],
    ['ticket_messages', ''],
    ['ticket_status_changes', ''],
    ['customers', `WHERE id <> ${probeCustomer}`],
    ['orders', `WHERE customer_id <> ${probeCustomer}`],
    ['loyalty_accounts', ''],
    ['loyalty_ledger', ''],
    ['canned_responses', ''],
    ['audit_log', ''],
    ['agent_status_changes', ''],
    // Less the segments' member counts: the server's own reconcile writes them, at its start (it
    // may still be counting when the fuzzing begins) and on its schedule; no client event can.
    ['change_log', `WHERE customer_id IS DISTINCT FROM ${probeCustomer} AND topic <> 'segment'`]
  ];
  const parts = await Promise.all(
    tables.map(([table, where]) =>
      db.sql.query(
        `SELECT count(*) AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS h FROM ${table} t ${where}`
      )
    )
  );
  return parts.map((p, i) => `${tables[i][0]}:${p.rows[0].n}:${p.rows[0].h}`).join(' ');
}

/** A change written by SQL reaches the bystander socket: the server is up and still delivering. */
async function probe() {
  const id = await createOrder(db.sql, { customerId: probeCustomer, total: 1 });
  await waitFor(bystander, 'order:created', (e) => e.data.id === id);
}

const polluted = () => ({}) as Record<string, unknown>;
function expectNoPrototypePollution() {
  expect(polluted().polluted).toBeUndefined();
  expect(Object.keys(Object.prototype)).toEqual([]);
}

// --- Sockets ----------------------------------------------------------------------------------

type Role = 'agent' | 'manager' | 'tv';

/**
 * One socket per role, replaced when the server closed it or after 30 events (so the fuzzing
 * mostly reaches the handlers, not the rate limit; a refusal is a clean answer all the same).
 */
class Fuzzers {
  private current = new Map<Role, { socket: ClientSocket; used: number; oversized: boolean }>();

  /** The server closes a socket that sent a message over its size limit, maybe not at once: use a new one next. */
  sentOversized(role: Role) {
    const entry = this.current.get(role);
    if (entry) entry.oversized = true;
  }

  async socket(role: Role): Promise<ClientSocket> {
    let entry = this.current.get(role);
    if (!entry || !entry.socket.connected || entry.used >= 30 || entry.oversized) {
      entry?.socket.disconnect();
      const socket =
        role === 'tv'
          ? connectSocket(server.url, undefined, { wallboardToken: tvToken })
          : connectSocket(server.url, browsers[role].cookie);
      await whenReady(socket);
      entry = { socket, used: 0, oversized: false };
      this.current.set(role, entry);
    }
    entry.used += 1;
    return entry.socket;
  }

  close() {
    for (const { socket } of this.current.values()) socket.disconnect();
    this.current.clear();
  }
}

function send(
  socket: ClientSocket,
  event: string,
  args: unknown[],
  withAck: boolean
): Promise<{ answered: boolean; answer?: unknown }> {
  const emit = socket.emit as (e: string, ...a: unknown[]) => void;
  if (!withAck) {
    emit.call(socket, event, ...args);
    return Promise.resolve({ answered: false });
  }
  return new Promise((resolve) => {
    (socket.timeout(ACK_MS).emit as (e: string, ...a: unknown[]) => void)(
      event,
      ...args,
      (err: Error | null, answer: unknown) => resolve(err ? { answered: false } : { answered: true, answer })
    );
  });
}

/** Resolves once the server has read what was sent before (it answers a WebSocket ping in order), or closed. */
function readBy(ws: WebSocket) {
  return new Promise<void>((resolve) => {
    if (ws.readyState !== WebSocket.OPEN) return resolve();
    const done = () => {
      clearTimeout(timer);
      ws.off('close', done);
      ws.off('pong', done);
      resolve();
    };
    const timer = setTimeout(done, ACK_MS);
    ws.once('close', done);
    ws.once('pong', done);
    ws.ping();
  });
}

describe('what fuzzing found', () => {
  it('an event with an extra or a missing argument, an ack it does not take, or an unknown name is answered with a clean error, not silence', async () => {
    const socket = await openSocket(server.url, browsers.manager);
    const ask = (event: string, ...args: unknown[]) => send(socket, event, args, true);
    // The ack used to land where the handler expected an argument: the client waited forever.
    expect(await ask('wallboard:unwatch', 'extra')).toEqual({
      answered: true,
      answer: { error: { code: 'validation_failed', message: 'wallboard:unwatch takes 0 arguments' } }
    });
    expect(await ask('presence:list', 1)).toMatchObject({
      answered: true,
      answer: { error: { code: 'validation_failed' } }
    });
    expect(await ask('ticket:watch')).toMatchObject({
      answered: true,
      answer: { error: { code: 'validation_failed' } }
    });
    expect(await ask('ticket:watch', ownTicket, 'extra')).toMatchObject({
      answered: true,
      answer: { error: { code: 'validation_failed' } }
    });
    expect(await ask('ticket:typing', { ticketId: ownTicket, typing: true })).toMatchObject({
      answered: true,
      answer: { error: { code: 'validation_failed' } }
    });
    expect(await ask('tickets:watch', ownTicket)).toMatchObject({
      answered: true,
      answer: { error: { code: 'bad_request', message: 'Pulse takes no such event' } }
    });
    // The catalogue's own calls are untouched.
    expect(await ask('ticket:watch', ownTicket)).toMatchObject({
      answered: true,
      answer: { data: { viewers: [{ name: 'Manager M' }] } }
    });
    expect(await ask('wallboard:unwatch')).toEqual({ answered: true, answer: { data: { ok: true } } });
  });
});

describe('fuzzing the client events', () => {
  it(
    'every event, any payload, any role: the server stays up, answers cleanly, changes nothing',
    { timeout: 120_000 + RUNS * 2000 },
    async () => {
      const before = await fingerprint();
      const fuzzers = new Fuzzers();
      let run = 0;
      try {
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom<Role>('agent', 'manager', 'tv'),
            eventName(),
            fc.array(payload(), { maxLength: 3 }),
            fc.boolean(),
            async (role, event, args, withAck) => {
              const socket = await fuzzers.socket(role);
              const oversized = size(args) > OVERSIZED;
              if (oversized) fuzzers.sentOversized(role);
              const result = await send(socket, event, args, withAck);
              if (withAck) {
                // An event sent with an ack is answered, cleanly, unless it was too big to read at all.
                if (!oversized) {
                  expect(result.answered, `${event} was not answered`).toBe(true);
                  expect(
                    isCleanAnswer(result.answer),
                    `${event} answered ${JSON.stringify(result.answer)}`
                  ).toBe(true);
                }
              }
              // Access holds whatever the payload: an agent never gets into another team's ticket, a TV asks for nothing but the wallboard.
              const answer = result.answer as { data?: unknown } | undefined;
              if (role === 'agent' && event === 'ticket:watch' && args[0] === otherTeamTicket)
                expect(answer?.data).toBeUndefined();
              if (role === 'tv' && !event.startsWith('wallboard:')) expect(answer?.data).toBeUndefined();
              if (role === 'agent')
                expect(
                  received(socket, 'presence:changed').filter((p) => p.ticketId === otherTeamTicket)
                ).toEqual([]);
              // A socket is closed only for a message over the size limit.
              if (!socket.connected) expect(oversized, `${event} closed the socket`).toBe(true);
              expectNoPrototypePollution();
              if (++run % 20 === 0) await probe();
            }
          ),
          { numRuns: RUNS }
        );
      } finally {
        fuzzers.close();
      }
      await probe();
      expect(await fingerprint()).toBe(before);
    }
  );

  it(
    'raw frames no client library sends: the server stays up and delivers to everyone else',
    { timeout: 120_000 + RUNS * 2000 },
    async () => {
      const before = await fingerprint();
      const url = `${server.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
      const rawFrame = fc.oneof(
        // An event packet, its name anything (reserved names, numbers, objects), an ack id or not.
        fc
          .tuple(
            fc.oneof(
              fc.constantFrom<unknown>(
                ...CLIENT_EVENTS,
                'error',
                'disconnect',
                'disconnecting',
                'connect',
                'newListener',
                'removeListener',
                '__proto__'
              ),
              fc.string({ maxLength: 20 }),
              fc.integer(),
              fc.jsonValue({ maxDepth: 2 })
            ),
            fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 3 }),
            fc.option(fc.nat(), { nil: undefined })
          )
          .map(([name, args, ackId]) => `42${ackId ?? ''}${JSON.stringify([name, ...args])}`),
        // A binary event announcing attachments that never come (or a wrong count).
        fc
          .tuple(fc.constantFrom(...CLIENT_EVENTS), fc.nat(3), fc.nat(2))
          .map(([name, n, at]) => `45${n}-${JSON.stringify([name, { _placeholder: true, num: at }])}`),
        // Other packet types and plain garbage.
        fc.constantFrom(
          '40',
          '41',
          '43999[{}]',
          '44{}',
          '46-[]',
          '4',
          '42',
          '42[]',
          '42{}',
          '42["ticket:watch"',
          '2',
          '3',
          '6',
          '5',
          'x'
        ),
        fc.string({ maxLength: 200 }).map((s) => `4${s}`),
        fc.string({ maxLength: 200 })
      );

      let ws: WebSocket | undefined;
      const open = () =>
        new Promise<WebSocket>((resolve, reject) => {
          const socket = new WebSocket(url, {
            headers: { cookie: browsers.agent.cookie, origin: server.url }
          });
          socket.on('error', () => undefined);
          socket.on('message', (data) => {
            const text = data.toString();
            if (text.startsWith('0')) socket.send('40');
            else if (text.startsWith('40')) resolve(socket);
            else if (text === '2') socket.send('3');
          });
          socket.once('close', () => reject(new Error('closed before it was connected')));
        });
      let run = 0;
      try {
        await fc.assert(
          fc.asyncProperty(fc.array(rawFrame, { minLength: 1, maxLength: 5 }), async (frames) => {
            if (!ws || ws.readyState !== WebSocket.OPEN) ws = await open();
            for (const frame of frames) ws.send(frame);
            // The server handles a connection's frames in order: a ping answered means these were read.
            await readBy(ws);
            expectNoPrototypePollution();
            if (++run % 20 === 0) await probe();
          }),
          { numRuns: RUNS }
        );
      } finally {
        ws?.close();
      }
      await probe();
      expect(await fingerprint()).toBe(before);
    }
  );
});
