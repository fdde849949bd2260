import type { Logger } from 'pino';
import { rooms } from '#shared/rooms.js';
import { canViewCustomer } from '../auth/policies.js';
import type { Db } from '../data/db.js';
import { onSocketEvent } from './safe-handler.js';
import { positiveId, socketUser } from './socket-auth.js';
import type { PulseSocket } from './types.js';

/**
 * `customer:watch` joins the `customer:<id>` room after a policy check, so a ticket's customer
 * panel receives that customer's order, loyalty and profile changes; `customer:unwatch` leaves it.
 */
export function bindCustomerWatch(socket: PulseSocket, logger: Logger, db: Db) {
  onSocketEvent(socket, logger, 'customer:watch', async (rawId, ack) => {
    if (typeof ack !== 'function') return;
    const customerId = positiveId(rawId);
    if (!customerId)
      return ack({ error: { code: 'validation_failed', message: 'customerId must be a positive integer' } });
    const user = socketUser(socket.data);
    const [exists] = await db.query(`SELECT id FROM customers WHERE id = $1`, [customerId]).catch(() => []);
    if (!exists || !canViewCustomer(user))
      return ack({ error: { code: 'not_found', message: 'Customer not found' } });
    await socket.join(rooms.customer(customerId));
    ack({ data: { ok: true } });
  });
  onSocketEvent(socket, logger, 'customer:unwatch', (rawId) => {
    const customerId = positiveId(rawId);
    if (customerId) void socket.leave(rooms.customer(customerId));
  });
}
