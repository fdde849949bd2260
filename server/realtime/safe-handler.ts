import type { Logger } from 'pino';
import type { ClientToServerEvents } from '#shared/events.js';
import type { PulseSocket } from './types.js';

/** What an ack waiting on a failed handler is told. */
export const INTERNAL_ERROR = {
  error: { code: 'internal', message: 'Something went wrong on our side' }
} as const;

/**
 * `fn` wrapped so that nothing it throws, or rejects with, leaves it: a socket handler, a timer or
 * a listener callback that fails would otherwise end the process (Node exits on an uncaught
 * exception and on an unhandled rejection), taking every open screen with it. The error is logged
 * with `context()` (what ran, for whom) and the caller carries on; with `answerAck`, an ack passed
 * as the last argument is told `internal` (an ack answers once, so one already sent stays).
 */
export function guarded<Args extends unknown[]>(
  logger: Logger,
  context: () => Record<string, unknown>,
  fn: (...args: Args) => unknown,
  answerAck = false
): (...args: Args) => void {
  return (...args: Args) => {
    const fail = (err: unknown) => {
      logger.error({ err, ...context() }, 'handler failed; carrying on');
      const ack = args[args.length - 1];
      if (answerAck && typeof ack === 'function') {
        try {
          ack(INTERNAL_ERROR);
        } catch (ackErr) {
          logger.warn({ err: ackErr, ...context() }, 'could not answer the ack of a failed handler');
        }
      }
    };
    try {
      const result = fn(...args);
      if (result instanceof Promise) result.catch(fail);
    } catch (err) {
      fail(err);
    }
  };
}

/** `socket.on(event, handler)` through `guarded`: failures are logged with the event and the user, and the ack answered. */
export function onSocketEvent<E extends keyof ClientToServerEvents>(
  socket: PulseSocket,
  logger: Logger,
  event: E,
  handler: ClientToServerEvents[E]
): void {
  const context = () => ({ event, userId: socket.data.userId, socketId: socket.id });
  socket.on(event, guarded(logger, context, handler as (...args: unknown[]) => unknown, true) as never);
}
