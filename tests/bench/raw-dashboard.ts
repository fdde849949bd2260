import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { Socket } from 'node:net';
import { now } from './measure.js';

/**
 * A dashboard as the server sees it — a WebSocket speaking the Socket.IO protocol, signed in with
 * a session cookie — that does no more client-side work than reading two fields. A benchmark
 * holding hundreds of full socket.io-client instances in one process measures its own event loop
 * instead of the server; each real browser parses on its own CPU.
 *
 * The WebSocket framing is read here, straight off the TCP stream, as a browser does in native
 * code: a JavaScript WebSocket library spent more per frame (a receiver state machine, a stream
 * write and two events per frame) than the server spent sending it, on the same two cores. The
 * server writes a socket's frames of one read in one write, and all of them get the arrival
 * time of the bytes that carried them.
 */
export class RawDashboard {
  private socket: Socket | undefined;
  /** The start of a frame that has not fully arrived yet. */
  private partial: Buffer | null = null;
  private readonly wanted: Set<string>;
  private resolveReady!: () => void;
  private rejectReady!: (err: Error) => void;
  readonly ready: Promise<void>;
  onEvent: (event: string, seq: number, key: string | undefined, at: number) => void = () => undefined;

  /** `keyOf` picks the writer's key out of an event frame (by default the order's external id). */
  constructor(
    baseUrl: string,
    cookie: string,
    events: string[],
    private readonly keyOf: (frame: string) => string | undefined = externalId
  ) {
    this.wanted = new Set(events);
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    const url = new URL('/socket.io/?EIO=4&transport=websocket', baseUrl);
    const request = http.request(url, {
      headers: {
        cookie,
        origin: url.origin,
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64')
      }
    });
    request.on('error', (err) => this.rejectReady(err));
    request.on('response', (res) => this.rejectReady(new Error(`no upgrade: HTTP ${res.statusCode}`)));
    request.on('upgrade', (_res, socket, head) => {
      this.socket = socket;
      socket.setNoDelay(true);
      socket.on('error', (err) => this.rejectReady(err));
      socket.on('data', (chunk: Buffer) => this.receive(chunk));
      if (head.length > 0) this.receive(head);
    });
    request.end();
  }

  /** Every complete frame in what arrived (server frames are unmasked: RFC 6455, section 5.2). */
  private receive(chunk: Buffer) {
    const at = now();
    const buf = this.partial ? Buffer.concat([this.partial, chunk]) : chunk;
    this.partial = null;
    let offset = 0;
    while (buf.length - offset >= 2) {
      const opcode = buf[offset] & 0x0f;
      let length = buf[offset + 1] & 0x7f;
      let start = offset + 2;
      if (length === 126) {
        if (buf.length < start + 2) break;
        length = buf.readUInt16BE(offset + 2);
        start += 2;
      } else if (length === 127) {
        if (buf.length < start + 8) break;
        length = Number(buf.readBigUInt64BE(offset + 2));
        start += 8;
      }
      if (buf.length < start + length) break;
      const payload = buf.subarray(start, start + length);
      offset = start + length;
      if (opcode === 0x1) this.message(payload.toString(), at);
      else if (opcode === 0x9)
        this.send(payload, 0xa); // ping -> pong
      else if (opcode === 0x8) this.socket?.destroy();
    }
    if (offset < buf.length) this.partial = buf.subarray(offset);
  }

  private message(frame: string, at: number) {
    if (frame === '2') return this.send(Buffer.from('3')); // engine.io ping -> pong
    if (frame.startsWith('0')) return this.send(Buffer.from('40{}')); // engine.io open -> connect to "/"
    if (frame.startsWith('44')) return this.rejectReady(new Error(`connect refused: ${frame}`));
    if (!frame.startsWith('42["')) return;
    const name = frame.slice(4, frame.indexOf('"', 4));
    if (name === 'live:ready') return this.resolveReady();
    if (!this.wanted.has(name)) return;
    const seq = Number(/"seq":(\d+)/.exec(frame)?.[1]);
    this.onEvent(name, seq, this.keyOf(frame), at);
  }

  /** A client frame: final, masked (RFC 6455, section 5.3); the client only sends short ones. */
  private send(payload: Buffer, opcode = 0x1) {
    if (payload.length > 125) throw new Error('RawDashboard sends only short frames');
    const mask = randomBytes(4);
    const frame = Buffer.alloc(6 + payload.length);
    frame[0] = 0x80 | opcode;
    frame[1] = 0x80 | payload.length;
    mask.copy(frame, 2);
    for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i] ^ mask[i % 4];
    this.socket?.write(frame);
  }

  close() {
    this.socket?.end();
  }
}

const externalId = (frame: string) => /"externalId":"([^"]+)"/.exec(frame)?.[1];
