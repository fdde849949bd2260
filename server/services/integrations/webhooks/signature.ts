import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * `Pulse-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the subscription's
 * secret>`. The receiver recomputes it over the raw body and refuses old timestamps (replays).
 */
export function signPayload(secret: string, body: string, at = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac('sha256', secret).update(`${at}.${body}`).digest('hex');
  return `t=${at},v1=${mac}`;
}

/** The check a receiver makes (docs/api.md shows the same in a few lines). */
export function verifySignature(
  secret: string,
  body: string,
  header: string | undefined,
  toleranceSeconds = 300,
  now = Math.floor(Date.now() / 1000)
): boolean {
  if (!header) return false;
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const at = Number(parts.t);
  if (!Number.isInteger(at) || Math.abs(now - at) > toleranceSeconds || !parts.v1) return false;
  const expected = createHmac('sha256', secret).update(`${at}.${body}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
