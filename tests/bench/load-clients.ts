// One process of bench:load's clients (started by load.ts with an IPC channel): holds its share of
// the sockets, times each order frame against the send time its key carries, and answers the
// bench's questions over IPC. Arrival and send times are both `now()` (wall-clock based in every
// process), so they compare across processes. The clients used to share the bench's own event loop with the writer
// and the API readers, so a busy client delayed the writer and the other clients alike; each in its
// own process, as browsers are, their CPU is counted apart from the server's and the bench's.
import { RawDashboard } from './raw-dashboard.js';

export type ClientKind = 'dashboard' | 'agent';

export type ToClients =
  | { type: 'connect'; url: string; sockets: { cookie: string; kind: ClientKind }[] }
  | { type: 'start'; run: string }
  | { type: 'progress' }
  | { type: 'collect'; sent: number }
  | { type: 'close' };

export type FromClients =
  | { type: 'connected' }
  | { type: 'progress'; minSeen: number }
  | { type: 'collected'; latencies: number[]; missing: number; agentFrames: number }
  | { type: 'failed'; message: string };

/** The writer's key of an order: the run, the change's number and the wall-clock ms it was sent at. */
export const orderKey = (run: string, i: number, sentAt: number) => `${run}-${i}-${sentAt.toFixed(3)}`;
const sentAtOf = (key: string) => Number(key.slice(key.lastIndexOf('-') + 1));

const dashboards: RawDashboard[] = [];
const agents: RawDashboard[] = [];
let seen: Set<number>[] = [];
let latencies: number[] = [];
let agentFrames = 0;

const reply = (msg: FromClients) => process.send!(msg);

async function connect(url: string, sockets: { cookie: string; kind: ClientKind }[]) {
  // In batches, as the bench did in one process: a thousand handshakes at once time out.
  for (let i = 0; i < sockets.length; i += 50) {
    const batch = sockets.slice(i, i + 50).map((s) => ({
      kind: s.kind,
      socket: new RawDashboard(url, s.cookie, [`${s.kind === 'dashboard' ? 'order' : 'ticket'}:created`])
    }));
    await Promise.all(batch.map((b) => b.socket.ready));
    for (const b of batch) (b.kind === 'dashboard' ? dashboards : agents).push(b.socket);
  }
}

function start(run: string) {
  seen = dashboards.map(() => new Set<number>());
  latencies = [];
  agentFrames = 0;
  dashboards.forEach((d, i) => {
    d.onEvent = (_e, seq, key, at) => {
      if (!key?.startsWith(`${run}-`)) return;
      latencies.push(at - sentAtOf(key));
      seen[i].add(seq);
    };
  });
  for (const a of agents) a.onEvent = () => void agentFrames++;
}

// The bench is gone (it failed, or was stopped): so are its clients.
process.on('disconnect', () => process.exit(0));

process.on('message', (msg: ToClients) => {
  switch (msg.type) {
    case 'connect':
      connect(msg.url, msg.sockets).then(
        () => reply({ type: 'connected' }),
        (err) => reply({ type: 'failed', message: err instanceof Error ? err.message : String(err) })
      );
      return;
    case 'start':
      start(msg.run);
      return;
    case 'progress':
      reply({ type: 'progress', minSeen: Math.min(Infinity, ...seen.map((s) => s.size)) });
      return;
    case 'collect':
      reply({
        type: 'collected',
        latencies,
        missing: seen.reduce((sum, s) => sum + Math.max(0, msg.sent - s.size), 0),
        agentFrames
      });
      return;
    case 'close':
      for (const d of [...dashboards, ...agents]) d.close();
      process.exit(0);
      return;
  }
});
