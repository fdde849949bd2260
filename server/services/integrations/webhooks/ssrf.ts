import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Addresses a webhook must not reach unless WEBHOOKS_ALLOW_PRIVATE is on: the server's own host,
 * its private networks, link-local (cloud metadata at 169.254.169.254), multicast and reserved.
 */
const REFUSED = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4]
] as const)
  REFUSED.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8]
] as const)
  REFUSED.addSubnet(net, bits, 'ipv6');

/** Whether `address` (v4 or v6, v4-mapped v6 included) is private, loopback, link-local or reserved. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return REFUSED.check(address, 'ipv4');
  if (family !== 6) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return REFUSED.check(mapped[1], 'ipv4');
  return REFUSED.check(address, 'ipv6');
}

export class RefusedAddress extends Error {
  constructor(
    readonly host: string,
    readonly address: string
  ) {
    super(`${host} resolves to ${address}, a private or loopback address`);
  }
}

/**
 * Every address `host` resolves to, refused when any of them is private (a name with one public
 * and one private address would otherwise be a coin toss away from the inside).
 */
export async function resolvePublic(
  host: string,
  allowPrivate: boolean
): Promise<{ address: string; family: number }[]> {
  const bare = host.replace(/^\[|\]$/g, '');
  const found = isIP(bare)
    ? [{ address: bare, family: isIP(bare) }]
    : await dnsLookup(bare, { all: true, verbatim: true });
  if (found.length === 0) throw new Error(`${host} does not resolve`);
  if (!allowPrivate)
    for (const a of found) if (isPrivateAddress(a.address)) throw new RefusedAddress(host, a.address);
  return found;
}

/**
 * A `lookup` for http.request that connects only to an address it has checked, so a name cannot
 * resolve to a public address for the check and a private one for the connection.
 */
export function checkedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    resolvePublic(hostname, allowPrivate).then(
      (found) => {
        if ((options as { all?: boolean }).all) (callback as (e: null, a: typeof found) => void)(null, found);
        else callback(null, found[0].address, found[0].family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0)
    );
  };
}
