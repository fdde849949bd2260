import type { ErrorCode } from '#shared/errors.js';
import type { ClientToServerEvents } from '#shared/events.js';
import type { PulseSocket } from './types.js';

interface Shape {
  /** Arguments before the ack. */
  args: number;
  ack: 'required' | 'optional' | 'none';
}

/** The shape of every client event in the catalogue (src/lib/shared/events.ts). */
const CONTRACT: Record<keyof ClientToServerEvents, Shape> = {
  'ticket:watch': { args: 1, ack: 'required' },
  'ticket:unwatch': { args: 1, ack: 'optional' },
  'ticket:typing': { args: 1, ack: 'none' },
  'customer:watch': { args: 1, ack: 'required' },
  'customer:unwatch': { args: 1, ack: 'none' },
  'product:watch': { args: 1, ack: 'required' },
  'product:unwatch': { args: 1, ack: 'none' },
  'presence:list': { args: 0, ack: 'required' },
  'wallboard:watch': { args: 0, ack: 'required' },
  'wallboard:unwatch': { args: 0, ack: 'optional' },
  'live:catch_up': { args: 1, ack: 'required' },
  'list:watch': { args: 1, ack: 'required' },
  'list:unwatch': { args: 1, ack: 'optional' },
  'campaign:watch': { args: 1, ack: 'required' },
  'campaign:unwatch': { args: 1, ack: 'none' }
};

const shapeOf = (event: unknown): Shape | undefined =>
  typeof event === 'string' && Object.hasOwn(CONTRACT, event)
    ? CONTRACT[event as keyof ClientToServerEvents]
    : undefined;

/**
 * Holds every client event to the catalogue before a handler sees it. Socket.IO hands a handler
 * the ack as its last argument wherever that falls, so an extra or a missing argument used to
 * leave the ack where the handler did not look: the client waited forever. Now an event that
 * is not in the catalogue, or has the wrong number of arguments, or an ack it does not take, is
 * answered `{ error }` when it came with an ack, and dropped when it did not (there is no one to
 * tell). Handlers still validate the values themselves.
 */
export function enforceEventContract(socket: PulseSocket) {
  socket.use((packet, next) => {
    const [event] = packet;
    const last = packet[packet.length - 1];
    const ack =
      packet.length > 1 && typeof last === 'function' ? (last as (answer: unknown) => void) : undefined;
    const args = packet.length - 1 - (ack ? 1 : 0);
    const refuse = (code: ErrorCode, message: string) => ack?.({ error: { code, message } });
    const shape = shapeOf(event);
    if (!shape) return refuse('bad_request', 'Pulse takes no such event');
    if (args !== shape.args)
      return refuse(
        'validation_failed',
        `${event} takes ${shape.args} argument${shape.args === 1 ? '' : 's'}`
      );
    if (ack && shape.ack === 'none')
      return refuse('validation_failed', `${event} is not answered: send it without an ack`);
    if (!ack && shape.ack === 'required') return; // its handler answers through the ack; without one there is nothing to do
    next();
  });
}
