/**
 * A point in the change stream: a Postgres snapshot, written `xmin:xmax:xip,...` as
 * `pg_current_snapshot()::text` prints it. A change belongs to the stream before the point when
 * its transaction had committed then: its xid is below xmin, or below xmax and not in xip.
 *
 * Every live event carries one (`horizon`), every REST response a screen builds state from says
 * which one it reflects (the `Pulse-Horizon` header), and a reconnecting client sends the last one
 * it has applied. Resuming from a whole snapshot (not only its xmin) means a transaction left open
 * for minutes makes a reconnect replay only its own rows, not everything since it began.
 *
 * Browser-safe: the server, the client and the tests use the same parser and order.
 */
export interface StreamPosition {
  xmin: bigint;
  xmax: bigint;
  xip: bigint[];
}

/** At most this many in-progress transactions in a position a client sends (Postgres caps xip by max_connections). */
const MAX_XIP = 10_000;
const XID = /^\d{1,19}$/;

/** Parses `xmin:xmax:xip,...`; null for anything else (a client's garbage is not an error of ours). */
export function parsePosition(text: unknown): StreamPosition | null {
  if (typeof text !== 'string' || text.length > 24 * (MAX_XIP + 2)) return null;
  const parts = text.split(':');
  if (parts.length !== 3 || !XID.test(parts[0]) || !XID.test(parts[1])) return null;
  const xmin = BigInt(parts[0]);
  const xmax = BigInt(parts[1]);
  if (xmin > xmax) return null;
  const xip: bigint[] = [];
  if (parts[2] !== '') {
    for (const x of parts[2].split(',')) {
      if (!XID.test(x)) return null;
      const xid = BigInt(x);
      if (xid < xmin || xid >= xmax) return null;
      xip.push(xid);
    }
    if (xip.length > MAX_XIP) return null;
  }
  return { xmin, xmax, xip };
}

export function formatPosition(p: StreamPosition): string {
  return `${p.xmin}:${p.xmax}:${p.xip.join(',')}`;
}

/** Whether a transaction had committed (or ended) at `p`. */
export function isBefore(xid: bigint, p: StreamPosition): boolean {
  return xid < p.xmin || (xid < p.xmax && !p.xip.includes(xid));
}

/**
 * Whether `later` includes everything `earlier` does: every transaction finished at `earlier`
 * is finished at `later`. Two positions taken one after the other always satisfy this.
 */
export function covers(later: StreamPosition, earlier: StreamPosition): boolean {
  if (later.xmax < earlier.xmax) return false;
  return later.xip.every((x) => x >= earlier.xmax || earlier.xip.includes(x));
}

/** The later of two positions of one database's timeline (the first when neither covers the other). */
export function laterOf(a: StreamPosition, b: StreamPosition): StreamPosition {
  return covers(b, a) && !covers(a, b) ? b : a;
}

/** The response header that carries the stream position a REST answer reflects. */
export const HORIZON_HEADER = 'Pulse-Horizon';
