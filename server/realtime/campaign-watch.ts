import type { Logger } from 'pino';
import { rooms } from '#shared/rooms.js';
import { isManager } from '../auth/policies.js';
import type { Db } from '../data/db.js';
import { onSocketEvent } from './safe-handler.js';
import { positiveId, socketUser } from './socket-auth.js';
import type { PulseSocket } from './types.js';

/**
 * `campaign:watch` joins `campaign:<id>` for managers and admins (the report's audience), so the
 * report hears when its members or their orders change; `campaign:unwatch` leaves it.
 */
export function bindCampaignWatch(socket: PulseSocket, db: Db, logger: Logger) {
  onSocketEvent(socket, logger, 'campaign:watch', async (rawId, ack) => {
    if (typeof ack !== 'function') return;
    const campaignId = positiveId(rawId);
    if (!campaignId)
      return ack({ error: { code: 'validation_failed', message: 'campaignId must be a positive integer' } });
    if (!isManager(socketUser(socket.data)))
      return ack({ error: { code: 'forbidden', message: 'Campaigns are for managers and admins' } });
    const [exists] = await db.query(`SELECT 1 FROM campaigns WHERE id = $1`, [campaignId]).catch(() => []);
    if (!exists) return ack({ error: { code: 'not_found', message: 'Campaign not found' } });
    await socket.join(rooms.campaign(campaignId));
    ack({ data: { ok: true } });
  });
  onSocketEvent(socket, logger, 'campaign:unwatch', (rawId) => {
    const campaignId = positiveId(rawId);
    if (campaignId) void socket.leave(rooms.campaign(campaignId));
  });
}

/** A user who is no longer a manager leaves every campaign room. */
export function leaveCampaignsUnlessManager(socket: PulseSocket) {
  if (isManager(socketUser(socket.data))) return;
  for (const room of socket.rooms) if (room.startsWith('campaign:')) void socket.leave(room);
}
