import type { Logger } from 'pino';
import { rooms } from '#shared/rooms.js';
import type { Db } from '../data/db.js';
import { onSocketEvent } from './safe-handler.js';
import { positiveId } from './socket-auth.js';
import type { PulseSocket } from './types.js';

/**
 * `product:watch` joins the `product:<id>` room, so a product page receives the product's stock
 * movements and changes; `product:unwatch` leaves it. Everyone signed in may see products: the
 * only check is that the product exists (an unknown id answers not_found, like a REST 404).
 */
export function bindProductWatch(socket: PulseSocket, db: Db, logger: Logger) {
  onSocketEvent(socket, logger, 'product:watch', async (rawId, ack) => {
    if (typeof ack !== 'function') return;
    const productId = positiveId(rawId);
    if (!productId)
      return ack({ error: { code: 'validation_failed', message: 'productId must be a positive integer' } });
    const [exists] = await db.query(`SELECT 1 FROM products WHERE id = $1`, [productId]).catch(() => []);
    if (!exists) return ack({ error: { code: 'not_found', message: 'Product not found' } });
    await socket.join(rooms.product(productId));
    ack({ data: { ok: true } });
  });
  onSocketEvent(socket, logger, 'product:unwatch', (rawId) => {
    const productId = positiveId(rawId);
    if (productId) void socket.leave(rooms.product(productId));
  });
}

/** The product rooms a handshake asks for: those of products that exist. */
export async function productRoomsOf(db: Db, ids: number[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db.query<{ id: number }>(`SELECT id FROM products WHERE id = ANY($1::int[])`, [ids]);
  return rows.map((r) => rooms.product(r.id));
}
