// A client that floods a Pulse server with Socket.IO events, in a process of its own: the test
// measures the server, not the CPU it takes to produce the flood. Started by flood.ts; its plan
// comes in FLOOD, its report goes back over IPC.
import WebSocket from 'ws';
import type { FloodPlan, FloodedSocket } from './flood.js';

const plan = JSON.parse(process.env.FLOOD!) as FloodPlan;
const TICK_MS = 10;

/** One socket: connects, then sends the plan's events round-robin at its rate until the server cuts it off (or maxMs). */
function floodOne(): Promise<FloodedSocket> {
  return new Promise((resolve) => {
    const ws = new WebSocket(plan.url, { headers: { cookie: plan.cookie, origin: plan.origin } });
    const result: FloodedSocket = { sent: 0, answered: 0, refused: 0, cutOff: false, ms: 0 };
    let started = 0;
    let ackId = 0;
    let ticker: NodeJS.Timeout | undefined;
    const perTick = Math.max(1, Math.round((plan.perSecond * TICK_MS) / 1000));
    const tick = () => {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (performance.now() - started > plan.maxMs) return ws.close();
      for (let i = 0; i < perTick; i++) {
        const [event, ...args] = plan.events[result.sent % plan.events.length];
        // Events with an ack get an id; `ticket:typing` has none.
        ws.send(`42${event === 'ticket:typing' ? '' : ackId++}${JSON.stringify([event, ...args])}`);
        result.sent += 1;
      }
    };
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('0'))
        ws.send('40'); // Engine.IO open: join the main namespace
      else if (text.startsWith('40')) {
        started = performance.now();
        process.send!('flooding');
        ticker = setInterval(tick, TICK_MS);
      } else if (text === '2')
        ws.send('3'); // ping
      else if (text.startsWith('43')) {
        const answer = JSON.parse(text.slice(text.indexOf('[')))[0];
        if (answer?.error?.code === 'too_many_requests') result.refused += 1;
        else result.answered += 1;
      } else if (text.startsWith('41')) result.cutOff = true; // the server disconnected this socket
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      clearInterval(ticker);
      result.ms = Math.round(performance.now() - started);
      resolve(result);
    });
  });
}

const sockets: Promise<FloodedSocket>[] = [];
for (let i = 0; i < plan.sockets; i++) {
  sockets.push(floodOne());
  await new Promise((r) => setTimeout(r, plan.staggerMs));
}
process.send!({ sockets: await Promise.all(sockets) }, () => process.exit(0));
