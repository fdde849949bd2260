import type { Duplex } from 'node:stream';
import { emitOutgoing, type Outgoing } from './routing.js';
import type { PulseServer, PulseSocket } from './types.js';

/** socket.io-parser's EVENT packet type. */
const EVENT_PACKET = 2;
/** ws's WebSocket.OPEN. */
const WS_OPEN = 1;

/** The parts of an engine.io connection a direct write has to look at (not in its public types). */
interface EngineConnection {
  readyState: string;
  writeBuffer: unknown[];
  transport: {
    name: string;
    perMessageDeflate?: unknown;
    socket?: { readyState: number; _socket?: Duplex };
  };
}

/**
 * A WebSocket text frame from server to client (RFC 6455, section 5.2): final, unmasked, the
 * payload length in 7, 16 or 64 bits.
 */
export function textFrame(payload: Buffer): Buffer {
  const n = payload.length;
  const header = Buffer.alloc(n < 126 ? 2 : n < 65536 ? 4 : 10);
  header[0] = 0x81;
  if (n < 126) header[1] = n;
  else if (n < 65536) {
    header[1] = 126;
    header.writeUInt16BE(n, 2);
  } else {
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([header, payload]);
}

/**
 * Sends the changes of one read to the sockets that may see them: each change encoded once into
 * one WebSocket frame, and each socket written once with every frame it gets from this read.
 *
 * Socket.IO's broadcast encodes once too, but then hands the packet to each socket's engine.io
 * connection, which buffers it, writes it, and waits for the write's callback before the next
 * (a packet, a callback, a drain event and a flush per socket per change): at a thousand sockets
 * that bookkeeping cost as much as the write itself. Here the frame goes straight to the socket's
 * TCP stream when engine.io has nothing of its own waiting to go out, which keeps the order with
 * everything engine.io sends (pings, acks, other events); a socket with something waiting, or one
 * not on a plain WebSocket, gets the same changes through its engine.io connection, in order.
 */
export class FanOut {
  private readonly frames: { out: Outgoing; frame: Buffer | null }[] = [];
  private readonly pending = new Map<PulseSocket, number[]>();

  constructor(private readonly io: PulseServer) {}

  /** Queues `out` for the sockets in its rooms and in none of `except`. */
  add(out: Outgoing, except: string[]) {
    const index = this.frames.length;
    this.frames.push({ out, frame: this.encode(out) });
    const { rooms } = this.io.of('/').adapter;
    const { sockets } = this.io.of('/');
    const excluded = new Set<string>();
    for (const room of except) for (const id of rooms.get(room) ?? []) excluded.add(id);
    const reached = new Set<string>();
    for (const room of out.rooms) {
      for (const id of rooms.get(room) ?? []) {
        if (reached.has(id) || excluded.has(id)) continue;
        reached.add(id);
        const socket = sockets.get(id) as PulseSocket | undefined;
        if (!socket) continue;
        const queued = this.pending.get(socket);
        if (queued) queued.push(index);
        else this.pending.set(socket, [index]);
      }
    }
  }

  /** Writes what was queued, one write per socket (sockets that share a sequence share its bytes). */
  flush() {
    try {
      const joined = new Map<string, Buffer>();
      for (const [socket, indexes] of this.pending) {
        const stream = this.directStream(socket);
        if (!stream || indexes.some((i) => this.frames[i].frame === null)) {
          for (const i of indexes) emitOutgoing(socket, this.frames[i].out);
          continue;
        }
        const key = indexes.join(',');
        let bytes = indexes.length === 1 ? this.frames[indexes[0]].frame! : joined.get(key);
        if (!bytes) {
          bytes = Buffer.concat(indexes.map((i) => this.frames[i].frame!));
          joined.set(key, bytes);
        }
        stream.write(bytes);
      }
    } finally {
      // Sent or not, a read is queued once: the next read never sends it again.
      this.pending.clear();
      this.frames.length = 0;
    }
  }

  /** The socket.io packet as one engine.io message in one WebSocket frame; null if it has binary parts. */
  private encode(out: Outgoing): Buffer | null {
    const encoded = this.io.encoder.encode({ type: EVENT_PACKET, nsp: '/', data: [out.event, out.payload] });
    if (encoded.length !== 1 || typeof encoded[0] !== 'string') return null;
    // "4": engine.io's message packet.
    return textFrame(Buffer.from(`4${encoded[0]}`));
  }

  /** The socket's TCP stream when a frame may be written to it directly, now. */
  private directStream(socket: PulseSocket): Duplex | null {
    if (!socket.connected) return null;
    const conn = socket.conn as unknown as EngineConnection;
    const { transport } = conn;
    const stream = transport.socket?._socket;
    if (
      conn.readyState !== 'open' ||
      conn.writeBuffer.length > 0 ||
      transport.name !== 'websocket' ||
      transport.perMessageDeflate ||
      transport.socket?.readyState !== WS_OPEN ||
      !stream ||
      !stream.writable
    )
      return null;
    return stream;
  }
}
