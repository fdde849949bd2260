import WebSocket from 'ws';
import { now } from './measure.js';

/**
 * A dashboard as the server sees it — a WebSocket speaking the Socket.IO protocol, signed in with
 * a session cookie — that does no more client-side work than reading two fields. A benchmark
 * holding hundreds of full socket.io-client instances in one process measures its own event loop
 * instead of the server; each real browser parses on its own CPU.
 */
export class RawDashboard {
  private ws: WebSocket;
  readonly ready: Promise<void>;
  onEvent: (event: string, seq: number, key: string | undefined, at: number) => void = () => undefined;

  /** `keyOf` picks the writer's key out of an event frame (by default the order's external id). */
  constructor(
    baseUrl: string,
    cookie: string,
    events: string[],
    keyOf: (frame: string) => string | undefined = externalId
  ) {
    const url = `${baseUrl.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
    this.ws = new WebSocket(url, {
      headers: { cookie, origin: new URL(baseUrl).origin },
      perMessageDeflate: false
    });
    const wanted = new Set(events);
    this.ready = new Promise((resolve, reject) => {
      this.ws.on('error', reject);
      this.ws.on('message', (raw: Buffer) => {
        const at = now();
        const frame = raw.toString();
        if (frame === '2') return this.ws.send('3'); // engine.io ping -> pong
        if (frame.startsWith('0')) return this.ws.send('40{}'); // engine.io open -> connect to "/"
        if (frame.startsWith('44')) return reject(new Error(`connect refused: ${frame}`));
        if (!frame.startsWith('42["')) return;
        const name = frame.slice(4, frame.indexOf('"', 4));
        if (name === 'live:ready') return resolve();
        if (!wanted.has(name)) return;
        const seq = Number(/"seq":(\d+)/.exec(frame)?.[1]);
        this.onEvent(name, seq, keyOf(frame), at);
      });
    });
  }

  close() {
    this.ws.close();
  }
}

const externalId = (frame: string) => /"externalId":"([^"]+)"/.exec(frame)?.[1];
