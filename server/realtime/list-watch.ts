import type { Logger } from 'pino';
import { LIST_ENTITIES, canViewList, type ListEntity } from '#shared/lists/query.js';
import { rooms } from '#shared/rooms.js';
import { onSocketEvent } from './safe-handler.js';
import type { PulseSocket } from './socket-auth.js';

// `list:<entity>` rooms: a list screen hears of its table's new, changed and gone rows (routing.ts
// decides which changes reach which list). Joined after the role check; a role change that takes
// the list away leaves the room (applyAccess calls leaveForbiddenLists).

const isEntity = (value: unknown): value is ListEntity =>
  typeof value === 'string' && (LIST_ENTITIES as readonly string[]).includes(value);

/** The list rooms among `wanted` that this socket's role may be in. */
export const allowedListRooms = (socket: PulseSocket, wanted: unknown): string[] =>
  Array.isArray(wanted)
    ? [...new Set(wanted.filter(isEntity))]
        .filter((entity) => canViewList(socket.data.role, entity))
        .map((entity) => rooms.list(entity))
    : [];

export function leaveForbiddenLists(socket: PulseSocket) {
  for (const entity of LIST_ENTITIES)
    if (!canViewList(socket.data.role, entity)) void socket.leave(rooms.list(entity));
}

export function bindListWatch(socket: PulseSocket, logger: Logger) {
  onSocketEvent(socket, logger, 'list:watch', async (entity, ack) => {
    if (typeof ack !== 'function') return;
    if (!isEntity(entity))
      return ack({
        error: { code: 'validation_failed', message: `entity must be one of ${LIST_ENTITIES.join(', ')}` }
      });
    if (!canViewList(socket.data.role, entity))
      return ack({ error: { code: 'forbidden', message: `Your role does not see the ${entity} list` } });
    await socket.join(rooms.list(entity));
    ack({ data: { ok: true } });
  });
  onSocketEvent(socket, logger, 'list:unwatch', async (entity, ack) => {
    if (isEntity(entity)) await socket.leave(rooms.list(entity));
    if (typeof ack === 'function') ack({ data: { ok: true } });
  });
}
