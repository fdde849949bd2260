import net from 'node:net';

export interface RawResponse {
  /** The status code of the answer, or null when the connection closed without one. */
  status: number | null;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends `request` byte for byte over a plain TCP connection (for what fetch refuses to send: a
 * malformed Host, a hand-written WebSocket upgrade) and reads until the server closes the
 * connection, or until one complete answer with a Content-Length has arrived. With `halfClose`, the
 * request is followed by the end of the client's side (for a body that stops short of its length).
 */
export function rawRequest(
  baseUrl: string,
  request: string | Buffer,
  timeoutMs = 5000,
  halfClose = false
): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseResponse(Buffer.concat(chunks)));
    };
    const timer = setTimeout(() => {
      settled = true;
      socket.destroy();
      reject(
        new Error(
          `no complete answer within ${timeoutMs} ms: ${Buffer.concat(chunks).toString('latin1').slice(0, 200)}`
        )
      );
    }, timeoutMs);
    socket.on('connect', () => (halfClose ? socket.end(request) : socket.write(request)));
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      if (isComplete(Buffer.concat(chunks))) finish();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    // A reset after the answer (the server closing a connection it refused) is still an answer.
    socket.on('error', () => finish());
  });
}

/** A request in HTTP/1.1 wire format; `Connection: close` unless headers say otherwise. */
export function httpRequest(
  method: string,
  path: string,
  headers: Record<string, string>,
  body = ''
): string {
  const all = {
    connection: 'close',
    ...headers,
    ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {})
  };
  const lines = Object.entries(all).map(([k, v]) => `${k}: ${v}`);
  return `${method} ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n${body}`;
}

function isComplete(data: Buffer): boolean {
  const end = data.indexOf('\r\n\r\n');
  if (end === -1) return false;
  // An accepted upgrade answers with headers only and keeps the connection for the new protocol.
  if (data.subarray(0, 12).toString('latin1') === 'HTTP/1.1 101') return true;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(data.subarray(0, end).toString('latin1'));
  return !!length && data.length >= end + 4 + Number(length[1]);
}

function parseResponse(data: Buffer): RawResponse {
  const text = data.toString('utf8');
  const end = text.indexOf('\r\n\r\n');
  const head = end === -1 ? text : text.slice(0, end);
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: status ? Number(status[1]) : null, headers, body: end === -1 ? '' : text.slice(end + 4) };
}
