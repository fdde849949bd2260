import { hc, type ClientResponse } from 'hono/client';
import type { ErrorBody, ErrorCode } from '$shared/errors.js';
import { HORIZON_HEADER } from '$shared/stream-position.js';
import { liveClient } from '$lib/live/live-client.js';
// Type-only: no server code reaches the browser bundle.
import type { AppType } from '../../server/app';

/**
 * The typed API client. Same origin, so the HttpOnly session cookie rides along
 * (fetch's default `credentials: 'same-origin'`). Paths mirror the server: `api.api.auth.me.$get()`.
 */
export const api = hc<AppType>('/');

/** Codes the browser adds for failures that never reached the one error shape. */
export type ClientErrorCode = 'network_error' | 'bad_response';

/** A failed request, built from `{ error: { code, message, details? } }`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly code: ErrorCode | ClientErrorCode,
    message: string,
    /** HTTP status; 0 when the server could not be reached. */
    readonly status: number,
    readonly details?: unknown
  ) {
    super(message);
  }

  /** Field-level messages from a `validation_failed` answer, keyed by the field's path. */
  get fieldErrors(): Record<string, string> {
    if (this.code !== 'validation_failed' || !Array.isArray(this.details)) return {};
    const out: Record<string, string> = {};
    for (const issue of this.details as { path?: unknown; message?: unknown }[]) {
      if (typeof issue?.path === 'string' && typeof issue.message === 'string' && !(issue.path in out)) {
        out[issue.path] = issue.message;
      }
    }
    return out;
  }
}

/** The JSON of the success answers only (hono types every answer a route can give). */
type SuccessJson<R> =
  R extends ClientResponse<infer T, infer S, 'json'> ? (S extends 200 | 201 | 202 ? T : never) : never;

function isErrorBody(body: unknown): body is ErrorBody {
  const error = (body as ErrorBody | null)?.error;
  return typeof error?.code === 'string' && typeof error.message === 'string';
}

/**
 * Awaits a client call and returns its parsed JSON when it succeeded; otherwise throws an
 * ApiError. Network failures become `network_error` (status 0).
 *
 *   const { user } = await unwrap(api.api.auth.me.$get());
 */
export async function unwrap<R extends ClientResponse<unknown, number, 'json'>>(
  request: R | Promise<R>
): Promise<SuccessJson<R>> {
  let res: R;
  try {
    res = await request;
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError('network_error', "Can't reach Pulse. Check your connection and try again.", 0, err);
  }

  const body: unknown = res.status === 204 ? null : await res.json().catch(() => undefined);
  if (res.ok) {
    const position = res.headers.get(HORIZON_HEADER);
    if (position) {
      // Whatever a screen builds from this answer, the live stream continues it from here.
      liveClient.loadedAt(position);
      if (body && typeof body === 'object') positions.set(body, position);
    }
    return body as SuccessJson<R>;
  }
  if (isErrorBody(body))
    throw new ApiError(body.error.code, body.error.message, res.status, body.error.details);
  throw new ApiError(
    'bad_response',
    `Pulse answered ${res.status} ${res.statusText || ''}`.trim(),
    res.status
  );
}

const positions = new WeakMap<object, string>();

/** The stream position a REST answer reflects (its `Pulse-Horizon`), for a screen that watches a new room from it. */
export function horizonOf(body: object): string | undefined {
  return positions.get(body);
}

/** Query values travel as strings; empty ones are left out. */
export function queryOf(params: object): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(params) as [string, unknown][]) {
    if (value === undefined || value === null || value === '') continue;
    out[key] = String(value);
  }
  return out;
}

/** A message fit to show next to the control that failed: the server's, else the fallback. */
export function messageOf(err: unknown, fallback: string): string {
  if (err instanceof ApiError) return err.message;
  return fallback;
}
