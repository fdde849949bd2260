import { routeAccess } from '../auth/scopes.js';
import { createMiddleware } from 'hono/factory';
import { AppError } from '../errors.js';
import type { AppEnv } from './env.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Reads one request header by its lower-case name. */
export type HeaderReader = (name: string) => string | null | undefined;

// What a Host (or X-Forwarded-Host) may be: a name or IPv4 address, or a bracketed IPv6
// address, and an optional port. No spaces, user info, paths or stray brackets.
const HOST_SHAPE = /^(?:[a-z0-9_~.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;
const SCHEME_SHAPE = /^[a-z][a-z0-9+.-]*$/i;

/** `scheme://host[:port]` for an http(s) scheme and a Host-like value, or null when either is malformed. */
export function originOf(scheme: string, host: string | null | undefined): string | null {
  if (!host || !/^https?$/i.test(scheme) || !HOST_SHAPE.test(host)) return null;
  // The URL parser has the last word: ports above 65535, invalid IP addresses.
  return URL.canParse(`${scheme}://${host}`) ? new URL(`${scheme}://${host}`).origin : null;
}

/** An Origin header as browsers write it: `null`, or `scheme://host[:port]` and nothing more. */
export function isWellFormedOrigin(origin: string): boolean {
  if (origin === 'null') return true;
  const sep = origin.indexOf('://');
  if (sep < 1) return false;
  const [scheme, host] = [origin.slice(0, sep), origin.slice(sep + 3)];
  if (!SCHEME_SHAPE.test(scheme)) return false;
  return /^https?$/i.test(scheme) ? originOf(scheme, host) !== null : HOST_SHAPE.test(host);
}

export type RequestOrigins = { own: string; origin: string | undefined } | { error: string };

const firstOf = (value: string | null | undefined) => value?.split(',')[0]?.trim() || undefined;

/**
 * The request's own origin (its scheme and host, or X-Forwarded-Proto and -Host behind a trusted
 * proxy) and the Origin it says it comes from. Every one of them arrives from the network: a
 * malformed one is an error to answer, never an exception to throw.
 */
export function readOrigins(
  scheme: string,
  host: string | null | undefined,
  header: HeaderReader,
  trustProxy: boolean
): RequestOrigins {
  let proto = scheme;
  if (trustProxy) {
    const forwardedProto = firstOf(header('x-forwarded-proto'));
    if (forwardedProto !== undefined && !/^https?$/i.test(forwardedProto))
      return { error: 'Malformed X-Forwarded-Proto header' };
    const forwardedHost = firstOf(header('x-forwarded-host'));
    if (forwardedHost !== undefined && !HOST_SHAPE.test(forwardedHost))
      return { error: 'Malformed X-Forwarded-Host header' };
    proto = forwardedProto?.toLowerCase() ?? proto;
    host = forwardedHost ?? host;
  }
  const own = originOf(proto, host);
  if (!own)
    return {
      error:
        trustProxy && firstOf(header('x-forwarded-host'))
          ? 'Malformed X-Forwarded-Host header'
          : 'Malformed Host header'
    };
  const origin = header('origin') ?? undefined;
  if (origin !== undefined && !isWellFormedOrigin(origin)) return { error: 'Malformed Origin header' };
  return { own, origin };
}

export function isAllowedOrigin(origin: string | null | undefined, ownOrigin: string, allowed: string[]) {
  return !!origin && (origin === ownOrigin || allowed.includes(origin));
}

/**
 * Host, X-Forwarded-Proto/-Host (when trusted) and Origin must be well-formed, or the request is a
 * 400; the request's own origin is `c.var.ownOrigin` from here on.
 */
export const originHeaders = (trustProxy: boolean) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const url = new URL(c.req.url);
    const read = readOrigins(url.protocol.slice(0, -1), url.host, (n) => c.req.header(n), trustProxy);
    if ('error' in read) throw new AppError('bad_request', read.error);
    c.set('ownOrigin', read.own);
    await next();
  });

/**
 * Cross-site request forgery guard: every state-changing request must say where it comes
 * from (Origin, or Referer when a browser leaves Origin out) and that must be Pulse itself.
 * Runs after `originHeaders`.
 */
export const originCheck = (allowed: string[]) =>
  createMiddleware<AppEnv>(async (c, next) => {
    // An integration's bearer token is not sent by browsers on their own: no forgery to guard against.
    const bearerOnly = c.req.header('authorization')?.startsWith('Bearer ') && !c.req.header('cookie');
    // Storefront webhooks come from shops' servers, signed, and never act on a session.
    const signedDelivery = routeAccess(c.req.method, c.req.path) === 'open';
    if (!SAFE_METHODS.has(c.req.method) && !bearerOnly && !signedDelivery) {
      let origin = c.req.header('origin');
      if (!origin) {
        const referer = c.req.header('referer');
        origin = referer && URL.canParse(referer) ? new URL(referer).origin : undefined;
      }
      if (!isAllowedOrigin(origin, c.var.ownOrigin, allowed)) {
        throw new AppError('origin_rejected', 'This request did not come from Pulse (Origin check failed)');
      }
    }
    await next();
  });
