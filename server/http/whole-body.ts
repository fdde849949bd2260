import type { MiddlewareHandler } from 'hono';
import { AppError } from '../errors.js';

/**
 * Reads a request's whole body, up to `maxBytes`, before any route sees the request. A route that
 * does not read its body (a claim, a delete) would otherwise act on a request whose body never
 * arrived: a client that declared more than it sent and went away. Such a request is refused here,
 * so it changes nothing; a body over the limit is refused by its Content-Length at once, or as a
 * chunked body grows past it.
 */
export function wholeBody(maxBytes: number): MiddlewareHandler {
  const tooLarge = () =>
    new AppError('payload_too_large', `The request body is larger than ${Math.floor(maxBytes / 1024)} KiB`);
  return async (c, next) => {
    const stream = c.req.raw.body;
    if (!stream) return next();
    const declared = c.req.raw.headers.has('transfer-encoding')
      ? null
      : Number(c.req.raw.headers.get('content-length') ?? Number.NaN);
    if (declared !== null && declared > maxBytes) throw tooLarge();
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = stream.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > maxBytes) throw tooLarge();
        chunks.push(value);
      }
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new AppError('bad_request', 'The request body ended before it was complete');
    } finally {
      reader.releaseLock();
    }
    c.req.raw = new Request(c.req.raw, { body: Buffer.concat(chunks, size) });
    return next();
  };
}
