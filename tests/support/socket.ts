import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, HandshakeAuth, ServerToClientEvents } from '#shared/events.js';
import { Browser } from './http.js';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

// Every event a test socket received, from its first moment. A change can reach the socket
// before the test's own INSERT has returned, so waiting must look at what already arrived.
const histories = new WeakMap<ClientSocket, { name: string; payload: unknown }[]>();
// Every socket this test file opened, for closeSockets().
const opened = new Set<ClientSocket>();

/**
 * A real Socket.IO client the way the browser connects: WebSocket, session cookie, Pulse's Origin.
 * A TV connects with `wallboardToken` and no cookie.
 */
export function connectSocket(
  baseUrl: string,
  cookie?: string,
  opts: {
    horizon?: string;
    origin?: string;
    wallboardToken?: string;
    watch?: HandshakeAuth['watch'];
  } = {}
): ClientSocket {
  const socket = io(baseUrl, {
    path: '/socket.io',
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    extraHeaders: {
      ...(cookie !== undefined ? { cookie } : {}),
      origin: opts.origin ?? new URL(baseUrl).origin
    },
    auth: {
      ...(opts.horizon ? { horizon: opts.horizon } : {}),
      ...(opts.watch ? { watch: opts.watch } : {}),
      ...(opts.wallboardToken !== undefined ? { wallboardToken: opts.wallboardToken } : {})
    }
  }) as ClientSocket;
  const history: { name: string; payload: unknown }[] = [];
  histories.set(socket, history);
  socket.onAny((name: string, payload: unknown) => history.push({ name, payload }));
  opened.add(socket);
  return socket;
}

/** Disconnects every socket connectSocket opened (call it in afterAll). */
export function closeSockets() {
  for (const socket of opened) socket.disconnect();
  opened.clear();
}

/**
 * A connected, resumed socket for a signed-in user: `who` is a Browser holding a session, or an
 * email to sign in as (a new session, with the fixtures' password).
 */
export async function openSocket(
  baseUrl: string,
  who: string | Browser,
  opts: { horizon?: string } = {}
): Promise<ClientSocket> {
  const browser = typeof who === 'string' ? await Browser.signedIn(baseUrl, who) : who;
  const socket = connectSocket(baseUrl, browser.cookie, opts);
  await whenReady(socket);
  return socket;
}

/** Resolves with the `live:ready` info once the socket is connected and resumed (or at once if it was). */
export function whenReady(socket: ClientSocket) {
  type Ready = { horizon: string; replayed: number };
  const earlier = histories.get(socket)?.find((e) => e.name === 'live:ready');
  if (earlier) return Promise.resolve(earlier.payload as Ready);
  return new Promise<Ready>((resolve, reject) => {
    // A net, not a promise of speed: on a loaded machine the replay alone can take seconds.
    const timer = setTimeout(() => reject(new Error('socket not ready within 20 s')), 20_000);
    socket.once('live:ready', (info) => {
      clearTimeout(timer);
      resolve(info);
    });
    socket.once('connect_error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Resolves with the milliseconds until the socket is disconnected; rejects if it is still connected after `timeoutMs`. */
export function disconnected(socket: ClientSocket, timeoutMs = 1000) {
  return new Promise<number>((resolve, reject) => {
    const t0 = Date.now();
    const timer = setTimeout(() => reject(new Error('socket still connected')), timeoutMs);
    socket.once('disconnect', () => {
      clearTimeout(timer);
      resolve(Date.now() - t0);
    });
  });
}

/** Collects every event of the given names, in arrival order. */
export function record(socket: ClientSocket, names: (keyof ServerToClientEvents)[]) {
  const events: { name: string; payload: any }[] = [];
  for (const name of names) {
    socket.on(name as any, (payload: unknown) => events.push({ name, payload }));
  }
  return events;
}

/**
 * Resolves with the first event `name` matching `predicate`, whether it already arrived or arrives
 * within `timeoutMs`. Predicates name what they wait for (an id), so an earlier event cannot stand in.
 */
export function waitFor<T = any>(
  socket: ClientSocket,
  name: keyof ServerToClientEvents,
  predicate: (p: T) => boolean = () => true,
  // A net for an event that should come (pass a shorter one where the delay is what is tested).
  timeoutMs = 15_000
) {
  const earlier = histories.get(socket)?.find((e) => e.name === name && predicate(e.payload as T));
  if (earlier) return Promise.resolve(earlier.payload as T);
  return new Promise<T>((resolve, reject) => {
    const handler = (payload: T) => {
      if (!predicate(payload)) return;
      clearTimeout(timer);
      socket.off(name as any, handler as any);
      resolve(payload);
    };
    const timer = setTimeout(() => {
      socket.off(name as any, handler as any);
      reject(new Error(`no ${String(name)} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on(name as any, handler as any);
  });
}

/** Polls `check` until it returns true (for conditions on collected events). */
export async function until(check: () => boolean, timeoutMs = 5000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The payloads of every `name` event this socket has received so far. */
export function received<T = any>(socket: ClientSocket, name: keyof ServerToClientEvents): T[] {
  return (histories.get(socket) ?? []).filter((e) => e.name === name).map((e) => e.payload as T);
}
