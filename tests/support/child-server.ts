// A Pulse server in a process of its own, for tests of several processes on one database and for
// tests that must see the process survive (an in-process server shares the test's process).
// Prints one JSON line `{ "url": ... }` once it listens; stops on SIGTERM.
// PULSE_TEST_CONFIG may hold a JSON object of settings (`{ "TRUST_PROXY": "true" }`).
import { startTestServer } from './server.js';

const server = await startTestServer(process.env.DATABASE_URL!, {
  LOG_LEVEL: 'silent',
  ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
  ...(process.env.PRESENCE_HEARTBEAT_MS ? { PRESENCE_HEARTBEAT_MS: process.env.PRESENCE_HEARTBEAT_MS } : {}),
  ...(JSON.parse(process.env.PULSE_TEST_CONFIG ?? '{}') as Record<string, string>)
});
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
