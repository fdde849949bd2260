import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FanOut } from '../../server/realtime/fan-out.js';
import { emitOutgoing, type Outgoing } from '../../server/realtime/routing.js';
import type { PulseServer, PulseSocket } from '../../server/realtime/types.js';
import { until } from '../support/socket.js';

// The hub's fan-out on a real Socket.IO server and real clients over TCP: what each socket
// receives, and in what order next to what engine.io sends it on its own.

let httpServer: HttpServer;
let io: PulseServer;
let url: string;
const clients: ClientSocket[] = [];

beforeAll(async () => {
  httpServer = createServer();
  io = new Server(httpServer, { transports: ['websocket'] }) as PulseServer;
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await new Promise<void>((resolve) => io.close(() => resolve()));
});

/** A connected client, what it has received (event and seq, in order), and its server-side socket. */
async function client(rooms: string[]) {
  const serverSide = new Promise<PulseSocket>((resolve) => io.once('connection', resolve));
  const socket = connect(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  clients.push(socket);
  const received: string[] = [];
  socket.onAny((event: string, payload: { seq: number }) => received.push(`${event}#${payload.seq}`));
  const server = await serverSide;
  await new Promise<void>((resolve) => (socket.connected ? resolve() : socket.once('connect', resolve)));
  void server.join(rooms);
  return { server, received };
}

const change = (seq: number, rooms: string[]) =>
  ({
    event: 'order:created',
    topic: 'order',
    rooms,
    payload: { seq, horizon: '1:1:', at: new Date(0).toISOString(), op: 'insert', data: { id: seq } }
  }) as unknown as Outgoing;

describe('the fan-out', () => {
  it('sends each socket every change of a read it may see, once and in order, and none to excluded rooms', async () => {
    const both = await client(['managers', 'customer:1']);
    const team = await client(['team:1']);
    const held = await client(['managers', 'pulse:held']);
    const fanOut = new FanOut(io);
    fanOut.add(change(1, ['managers', 'customer:1']), ['pulse:held']);
    fanOut.add(change(2, ['managers', 'team:1']), ['pulse:held']);
    fanOut.add(change(3, ['customer:1']), ['pulse:held']);
    fanOut.flush();
    // A later read to everyone: once it has arrived, whatever the first read sent has too.
    fanOut.add(change(4, ['managers', 'team:1']), []);
    fanOut.flush();
    await until(() => [both, team, held].every((c) => c.received.includes('order:created#4')), 5000);
    expect(both.received).toEqual([
      'order:created#1',
      'order:created#2',
      'order:created#3',
      'order:created#4'
    ]);
    expect(team.received).toEqual(['order:created#2', 'order:created#4']);
    expect(held.received).toEqual(['order:created#4']);
  });

  it('a change comes after what engine.io still holds for the socket, not before it', async () => {
    const c = await client(['managers']);
    // The first emit goes out at once; the second waits in engine.io's buffer for its callback.
    emitOutgoing(c.server, change(10, ['managers']));
    emitOutgoing(c.server, change(11, ['managers']));
    expect((c.server.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length).toBeGreaterThan(0);
    const fanOut = new FanOut(io);
    fanOut.add(change(12, ['managers']), []);
    fanOut.add(change(13, ['managers']), []);
    fanOut.flush();
    await until(() => c.received.length >= 4, 5000);
    expect(c.received).toEqual([
      'order:created#10',
      'order:created#11',
      'order:created#12',
      'order:created#13'
    ]);
  });
});
