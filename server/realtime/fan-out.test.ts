import { describe, expect, it } from 'vitest';
import * as ws from 'ws';
import { textFrame } from './fan-out.js';

/** ws's frame parser (exported by the package, not declared in its types). */
const { Receiver } = ws as unknown as {
  Receiver: new (opts: { isServer: boolean }) => NodeJS.WritableStream & {
    on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): void;
    on(event: 'error', listener: (err: Error) => void): void;
  };
};

/** What a WebSocket client reads from `bytes`: each message's text, and whether it saw an error. */
function received(bytes: Buffer) {
  const messages: string[] = [];
  const errors: Error[] = [];
  // A client's receiver: frames from a server are unmasked.
  const receiver = new Receiver({ isServer: false });
  receiver.on('message', (data: Buffer, isBinary: boolean) => {
    expect(isBinary).toBe(false);
    messages.push(data.toString());
  });
  receiver.on('error', (err: Error) => errors.push(err));
  receiver.write(bytes);
  return { messages, errors };
}

describe('textFrame', () => {
  it.each([
    ['short (7-bit length)', 5],
    ['at the 7-bit limit', 125],
    ['16-bit length', 126],
    ['a typical change', 480],
    ['at the 16-bit limit', 65535],
    ['64-bit length', 70_000]
  ])('is read back whole by a WebSocket client: %s', (_name, size) => {
    const text = '4' + 'x'.repeat(size - 1);
    const { messages, errors } = received(textFrame(Buffer.from(text)));
    expect(errors).toEqual([]);
    expect(messages).toEqual([text]);
  });

  it('concatenated frames are read as separate messages, in order', () => {
    const texts = ['42["a",1]', `42["b","${'y'.repeat(300)}"]`, '42["c",{"é":true}]'];
    const { messages, errors } = received(Buffer.concat(texts.map((t) => textFrame(Buffer.from(t)))));
    expect(errors).toEqual([]);
    expect(messages).toEqual(texts);
  });
});
