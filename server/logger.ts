import pino, { type Logger } from 'pino';

/** Structured JSON logs; pretty, human lines when a person is watching the terminal. */
export function createLogger(level: string, pretty = process.stdout.isTTY): Logger {
  return pino({
    level,
    base: undefined,
    ...(pretty
      ? {
          transport: { target: 'pino-pretty', options: { ignore: 'pid,hostname', translateTime: 'HH:MM:ss' } }
        }
      : {})
  });
}
