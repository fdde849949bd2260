import { getRequestListener, RequestError } from '@hono/node-server';
import type { Logger } from 'pino';
import type { ErrorBody } from '../../src/lib/shared/errors.js';

const errorResponse = (status: number, error: ErrorBody['error']) =>
  new Response(JSON.stringify({ error } satisfies ErrorBody), { status, headers: { 'content-type': 'application/json' } });

/**
 * Node's request listener for the Hono app. A request the adapter cannot turn into a `Request`
 * (a malformed Host, a bad request target) never reaches the app: it answers 400 in the one
 * error shape here instead of an empty 400.
 */
export function nodeRequestListener(fetch: (request: Request) => Response | Promise<Response>, logger: Logger) {
  return getRequestListener(fetch, {
    errorHandler: (err) => {
      if (err instanceof RequestError) return errorResponse(400, { code: 'bad_request', message: `Malformed request: ${err.message}` });
      // The app answers its own errors (app.onError); this is what escaped it.
      logger.error({ err }, 'request failed outside the app');
      return errorResponse(500, { code: 'internal', message: 'Something went wrong on our side' });
    }
  });
}
