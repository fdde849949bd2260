import WebSocket from 'ws';

/**
 * A Socket.IO connection spoken by hand over a WebSocket (engine.io v4 framing: `0` open, `40`
 * connect, `42` event, `43` ack, `44` connect error), for sending what socket.io-client never would.
 */
export class RawSocket {
  readonly messages: string[] = [];
  closed = false;
  private waiters = new Set<() => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(String(data));
      this.wake();
    });
    ws.on('close', () => {
      this.closed = true;
      this.wake();
    });
    ws.on('error', () => undefined);
  }

  /**
   * Opens the WebSocket with exactly these headers (Host and Origin included). Resolves with the
   * socket once upgraded, or with the HTTP status of a refused upgrade (null: no answer at all).
   */
  static open(
    baseUrl: string,
    headers: Record<string, string>,
    timeoutMs = 5000
  ): Promise<RawSocket | { refused: number | null }> {
    const url = `${baseUrl.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
    return new Promise((resolve) => {
      const ws = new WebSocket(url, { headers, handshakeTimeout: timeoutMs });
      ws.once('open', () => resolve(new RawSocket(ws)));
      ws.once('unexpected-response', (_req, res) => {
        resolve({ refused: res.statusCode ?? null });
        res.resume();
        ws.terminate();
      });
      ws.once('error', () => resolve({ refused: null }));
    });
  }

  send(frame: string) {
    if (!this.closed) this.ws.send(frame);
  }

  /** The first message (already received or arriving within `timeoutMs`) that `match` accepts; null if the socket closes or time runs out first. */
  async next(match: (message: string) => boolean, timeoutMs = 3000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(match);
      if (found !== undefined) return found;
      if (this.closed || Date.now() >= deadline) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, deadline - Date.now());
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.add(done);
      });
    }
  }

  close() {
    this.ws.terminate();
  }

  private wake() {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w();
  }
}
