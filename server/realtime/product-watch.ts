import type pg from 'pg';
import type { Logger } from 'pino';
import { rooms } from '#shared/rooms.js';
import { onSocketEvent } from './safe-handler.js';
import { positiveId, type PulseSocket } from './socket-auth.js';

/**
 * `product:watch` joins the `product:<id>` room, so a product page receives the product's stock
 * movements and changes; `product:unwatch` leaves it. Everyone signed in may see products: the
 * only check is that the product exists (an unknown id answers not_found, like a REST 404).
 */
export function bindProductWatch(socket: PulseSocket, pool: pg.Pool, logger: Logger) {
  onSocketEvent(socket, logger, 'product:watch', async (rawId, ack) => {
    if (typeof ack !== 'function') return;
    const productId = positiveId(rawId);
    if (!productId)
      return ack({ error: { code: 'validation_failed', message: 'productId must be a positive integer' } });
    const { rows } = await pool.query(`SELECT 1 FROM products WHERE id = $1`, [productId]);
    if (rows.length === 0) return ack({ error: { code: 'not_found', message: 'Product not found' } });
    await socket.join(rooms.product(productId));
    ack({ data: { ok: true } });
  });
  onSocketEvent(socket, logger, 'product:unwatch', (rawId) => {
    const productId = positiveId(rawId);
    if (productId) void socket.leave(rooms.product(productId));
  });
}

/** The product rooms a handshake asks for: those of products that exist. */
export async function productRoomsOf(pool: pg.Pool, ids: number[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const { rows } = await pool.query<{ id: number }>(`SELECT id FROM products WHERE id = ANY($1::int[])`, [
    ids
  ]);
  return rows.map((r) => rooms.product(r.id));
}
