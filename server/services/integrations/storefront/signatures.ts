import { createHmac, timingSafeEqual } from 'node:crypto';

// How each platform signs a delivery. Every comparison is constant-time over equal lengths.

/** Shopify and WooCommerce: base64 of the HMAC-SHA256 of the raw body with the shared secret. */
export function verifyBase64Hmac(secret: string, raw: Uint8Array, header: string | undefined): boolean {
  if (!header || !/^[A-Za-z0-9+/]+={0,2}$/.test(header.trim())) return false;
  const given = Buffer.from(header.trim(), 'base64');
  const expected = createHmac('sha256', secret).update(raw).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export const signBase64Hmac = (secret: string, raw: string | Uint8Array) =>
  createHmac('sha256', secret).update(raw).digest('base64');

/** Seconds a generic delivery's timestamp may differ from Pulse's clock (either way). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export type PulseSignatureCheck = 'valid' | 'stale' | 'invalid';

/**
 * `X-Pulse-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, the same scheme
 * Pulse signs its outbound webhooks with. A timestamp further than the tolerance from now, in the
 * past (a replay) or the future, is refused even with a valid MAC.
 */
export function checkPulseSignature(
  secret: string,
  raw: Uint8Array,
  header: string | undefined,
  now = Math.floor(Date.now() / 1000)
): PulseSignatureCheck {
  if (!header) return 'invalid';
  const parts = new Map(
    header.split(',').map((p) => {
      const at = p.indexOf('=');
      return [p.slice(0, at).trim(), p.slice(at + 1).trim()] as const;
    })
  );
  const t = parts.get('t') ?? '';
  const v1 = parts.get('v1') ?? '';
  if (!/^\d{1,12}$/.test(t) || !/^[0-9a-f]{64}$/i.test(v1)) return 'invalid';
  const expected = createHmac('sha256', secret).update(`${t}.`).update(raw).digest();
  if (!timingSafeEqual(Buffer.from(v1, 'hex'), expected)) return 'invalid';
  return Math.abs(now - Number(t)) > SIGNATURE_TOLERANCE_SECONDS ? 'stale' : 'valid';
}

export function signPulse(secret: string, raw: string, at = Math.floor(Date.now() / 1000)): string {
  return `t=${at},v1=${createHmac('sha256', secret).update(`${at}.${raw}`).digest('hex')}`;
}
