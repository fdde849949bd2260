import { fork } from 'node:child_process';
import path from 'node:path';

export interface FloodPlan {
  url: string;
  cookie: string;
  origin: string;
  /** Client events, `[name, ...args]`, sent round-robin. */
  events: [string, ...unknown[]][];
  /** Flooding sockets, opened `staggerMs` apart. */
  sockets: number;
  staggerMs: number;
  /** Events each socket sends a second. */
  perSecond: number;
  /** A socket the server never cuts off stops by itself after this long. */
  maxMs: number;
}

export interface FloodedSocket {
  sent: number;
  /** Acks that answered (`{ data }` or an error other than rate limiting). */
  answered: number;
  /** Acks that said `too_many_requests`. */
  refused: number;
  /** The server disconnected it. */
  cutOff: boolean;
  /** From connected to closed. */
  ms: number;
}

/**
 * Floods a Pulse server from a separate process, as one signed-in user (`cookie`). Resolves once
 * the first socket floods; `done` settles with what happened to each socket.
 */
export async function startFlood(
  baseUrl: string,
  cookie: string,
  plan: Omit<FloodPlan, 'url' | 'cookie' | 'origin'>
): Promise<{ done: Promise<{ sockets: FloodedSocket[] }>; finished: () => boolean }> {
  const full: FloodPlan = {
    ...plan,
    url: `${baseUrl.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`,
    cookie,
    origin: new URL(baseUrl).origin
  };
  const child = fork(path.resolve(import.meta.dirname, 'flood-process.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, FLOOD: JSON.stringify(full) }
  });
  let finished = false;
  const done = new Promise<{ sockets: FloodedSocket[] }>((resolve, reject) => {
    child.on('message', (m) => {
      if (m === 'flooding') return;
      finished = true;
      resolve(m as { sockets: FloodedSocket[] });
    });
    child.once('exit', (code) => !finished && reject(new Error(`the flood exited with ${code}`)));
  });
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m) => m === 'flooding' && resolve());
    done.catch(reject);
  });
  return { done, finished: () => finished };
}
