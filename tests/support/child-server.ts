// A Pulse server in a process of its own, for tests of several processes on one database.
// Prints one JSON line `{ "url": ... }` once it listens; stops on SIGTERM.
import { startTestServer } from './server.js';

const server = await startTestServer(process.env.DATABASE_URL!, {
  LOG_LEVEL: 'silent',
  ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
  ...(process.env.PRESENCE_HEARTBEAT_MS ? { PRESENCE_HEARTBEAT_MS: process.env.PRESENCE_HEARTBEAT_MS } : {})
});
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
