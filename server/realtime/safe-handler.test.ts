import pino from 'pino';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { guarded, INTERNAL_ERROR } from './safe-handler.js';

/** A real pino logger whose lines land in an array. */
function memoryLogger() {
  const lines: Record<string, any>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    }
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

/** Resolves once `check` holds (log lines are written asynchronously). */
async function until(check: () => boolean) {
  const deadline = Date.now() + 2000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setImmediate(r));
  }
}

describe('guarded', () => {
  it('logs what a handler throws with its context and answers the ack with internal', async () => {
    const { logger, lines } = memoryLogger();
    const answers: unknown[] = [];
    const handler = guarded(
      logger,
      () => ({ event: 'customer:watch', userId: 7 }),
      (_id: unknown, _ack: (a: unknown) => void) => {
        throw new Error('boom');
      },
      true
    );
    expect(() => handler(1, (a) => answers.push(a))).not.toThrow();
    expect(answers).toEqual([INTERNAL_ERROR]);
    await until(() => lines.length === 1);
    expect(lines[0]).toMatchObject({ event: 'customer:watch', userId: 7, err: { message: 'boom' } });
  });

  it('catches a rejected promise the same way', async () => {
    const { logger, lines } = memoryLogger();
    const answers: unknown[] = [];
    const handler = guarded(
      logger,
      () => ({ event: 'wallboard:watch', userId: 3 }),
      async (_ack: (a: unknown) => void) => {
        await Promise.resolve();
        throw new RangeError('Invalid time value');
      },
      true
    );
    handler((a) => answers.push(a));
    await until(() => answers.length === 1 && lines.length === 1);
    expect(answers).toEqual([INTERNAL_ERROR]);
    expect(lines[0]).toMatchObject({ event: 'wallboard:watch', userId: 3, err: { type: 'RangeError' } });
  });

  it('leaves the arguments alone without answerAck (a timer, a listener) and passes through what works', async () => {
    const { logger, lines } = memoryLogger();
    const called: unknown[] = [];
    const callback = guarded(
      logger,
      () => ({ timer: 'wallboard frame' }),
      (_ack: () => void) => {
        called.push('ran');
        throw new Error('late');
      }
    );
    callback(() => called.push('ack'));
    await until(() => lines.length === 1);
    expect(called).toEqual(['ran']);
    expect(lines[0]).toMatchObject({ timer: 'wallboard frame' });

    const fine = guarded(
      logger,
      () => ({}),
      (n: number) => called.push(n * 2)
    );
    fine(21);
    expect(called).toEqual(['ran', 42]);
  });
});
