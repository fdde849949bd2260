import { getRequestListener, RequestError } from '@hono/node-server';
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { ERROR_CODES, type ErrorBody, type ErrorCode } from '#shared/errors.js';

const errorResponse = (status: number, error: ErrorBody['error']) =>
  new Response(JSON.stringify({ error } satisfies ErrorBody), {
    status,
    headers: { 'content-type': 'application/json' }
  });

/**
 * Node's request listener for the Hono app. A request the adapter cannot turn into a `Request`
 * (a malformed Host, a bad request target) never reaches the app: it answers 400 in the one
 * error shape here instead of an empty 400.
 */
export function nodeRequestListener(
  fetch: (request: Request) => Response | Promise<Response>,
  logger: Logger
) {
  return getRequestListener(fetch, {
    errorHandler: (err) => {
      if (err instanceof RequestError)
        return errorResponse(400, { code: 'bad_request', message: `Malformed request: ${err.message}` });
      // The app answers its own errors (app.onError); this is what escaped it.
      logger.error({ err }, 'request failed outside the app');
      return errorResponse(500, { code: 'internal', message: 'Something went wrong on our side' });
    }
  });
}

/** What Node's HTTP parser refuses, by its error code; anything else it refuses is a bad request. */
const PARSER_REFUSALS: Record<string, { code: ErrorCode; message: string }> = {
  HPE_HEADER_OVERFLOW: { code: 'headers_too_large', message: 'The request line and headers are too large' },
  ERR_HTTP_REQUEST_TIMEOUT: { code: 'request_timeout', message: 'The request took too long to arrive' }
};

/**
 * Requests Node's HTTP parser refuses before any listener sees them (a control character in a
 * header, a URL and headers past 16 KiB, a malformed Content-Length) answer in the one error
 * shape too, instead of Node's bare status line.
 *
 * Bytes refused after a whole request on the same connection (a body longer than its
 * Content-Length: the rest is read as the next request) are answered after that request's own
 * answer, as HTTP orders answers. Answering at once would put the refusal in place of the
 * request's answer while the request still runs: the client would see a 400 for a request
 * whose changes land after it.
 */
export function answerClientErrors(server: Server) {
  /** The request each connection received last, and its answer (answers go out in request order). */
  const last = new WeakMap<Duplex, { req: IncomingMessage; res: ServerResponse }>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => last.set(req.socket, { req, res }));
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const refusal = PARSER_REFUSALS[err.code ?? ''] ?? {
      code: 'bad_request',
      message: 'Malformed HTTP request'
    };
    const status = ERROR_CODES[refusal.code];
    const body = JSON.stringify({ error: refusal } satisfies ErrorBody);
    const refuse = () => {
      // The answer before it closed the connection (`Connection: close`, or the client left).
      if (!socket.writable) return socket.destroy();
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
      );
    };
    // A request whose body is still arriving is the one refused: its body never completes.
    const pending = last.get(socket);
    if (pending?.req.complete && !pending.res.writableFinished) pending.res.once('close', refuse);
    else refuse();
  });
}
