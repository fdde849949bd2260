import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { migrateDatabase } from '../../db/migrate.js';
import { ChangeReader, type ReadResult } from '../../server/realtime/change-reader.js';
import { DOORBELL_LOCK_KEY } from '../../server/realtime/doorbell-silencer.js';
import { ChangeListener } from '../../server/realtime/listener.js';
import { createCustomer } from '../support/fixtures.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/postgres.js';
import { until } from '../support/socket.js';

// Which reads the listener makes, besides the safety poll: a read after each doorbell, and a
// follow-up only while a transaction that may have committed without ringing is still running.
// The snapshot's in-progress list is cluster-wide, so this file runs its own cluster, with
// autovacuum off: nothing but the test's own transactions is ever in progress.

/** The advisory lock that holds a test transaction inside its commit, after its doorbell trigger. */
const GATE_KEY = 4242;

class CountingReader extends ChangeReader {
  reads = 0;
  override async read(onRows: (result: ReadResult) => void): Promise<number> {
    const found = await super.read(onRows);
    this.reads += 1;
    return found;
  }
}

let embedded: ThrowawayPostgres;
let sql: pg.Pool;
let customerId: number;
let reader: CountingReader;
let listener: ChangeListener;
let delivered: { externalId: string; read: number }[] = [];

const insertOrder = (q: pg.Pool | pg.PoolClient, externalId: string) =>
  q.query(`INSERT INTO orders (customer_id, total, external_id) VALUES ($1, 1, $2)`, [
    customerId,
    externalId
  ]);
/** Until a transaction waits for the gate (inside its commit). */
async function waitingAtGate() {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await sql.query(
      `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND NOT granted`,
      [GATE_KEY]
    );
    if (rows.length > 0) return;
    if (Date.now() > deadline) throw new Error('timed out waiting for the skipper inside its commit');
    await new Promise((r) => setTimeout(r, 10));
  }
}
const readOf = (externalId: string) => delivered.find((d) => d.externalId === externalId)?.read;

beforeAll(async () => {
  embedded = await startThrowawayPostgres({ prefix: 'pulse-follow-up-', fast: true });
  await migrateDatabase(embedded.url);
  sql = new pg.Pool({ connectionString: embedded.url, max: 6 });
  sql.on('error', () => undefined);
  await sql.query(`ALTER SYSTEM SET autovacuum = off`);
  await sql.query(`SELECT pg_reload_conf()`);
  customerId = await createCustomer(sql, 'follow-up@test.dev');
  // Holds a transaction that asks for it inside its commit, after the doorbell trigger has run
  // (deferred triggers of one event fire in name order).
  await sql.query(`
    CREATE FUNCTION test_hold_commit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF current_setting('test.hold', true) = 'on' THEN PERFORM pg_advisory_xact_lock(${GATE_KEY}); END IF;
      RETURN NULL;
    END $$;
    CREATE CONSTRAINT TRIGGER zz_test_hold AFTER INSERT ON change_log
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_hold_commit();`);
  reader = new CountingReader(sql);
  listener = new ChangeListener({
    databaseUrl: embedded.url,
    reader,
    logger: pino({ level: 'silent' }),
    // Long enough that no read in these tests is the safety poll's.
    pollMs: 120_000,
    onChanges: (result) => {
      for (const row of result.rows)
        if (row.topic === 'order')
          delivered.push({ externalId: String(row.data.external_id), read: reader.reads + 1 });
    }
  });
  await listener.start();
}, 60_000);

beforeEach(() => {
  delivered = [];
});

afterAll(async () => {
  await listener?.close();
  await sql?.end();
  await embedded?.stop();
});

describe('the listener reads after a doorbell, and follows up only when something may be missing', () => {
  it('reads once for a change committed with nothing else in progress', { timeout: 30_000 }, async () => {
    await insertOrder(sql, 'lone-1');
    await until(() => readOf('lone-1') !== undefined, 10_000, 'the first change');
    // Time for a follow-up read, if one were (needlessly) scheduled after that read.
    await new Promise((r) => setTimeout(r, 100));
    await insertOrder(sql, 'lone-2');
    await until(() => readOf('lone-2') !== undefined, 10_000, 'the second change');
    expect(readOf('lone-2')! - readOf('lone-1')!).toBe(1);
  });

  it(
    'follows up, without waiting for the safety poll, a transaction that committed without ringing',
    { timeout: 60_000 },
    async () => {
      const gate = await sql.connect();
      const ringer = await sql.connect();
      const skipper = await sql.connect();
      try {
        await gate.query(`SELECT pg_advisory_lock($1)`, [GATE_KEY]);
        // The ringer holds the doorbell's key, as a transaction ringing at commit does.
        await ringer.query('BEGIN');
        await ringer.query(`SELECT pg_advisory_xact_lock($1)`, [DOORBELL_LOCK_KEY.toString()]);
        await skipper.query('BEGIN');
        await skipper.query(`SET LOCAL test.hold = 'on'`);
        await insertOrder(skipper, 'skipper');
        // Its doorbell trigger finds the key taken, so it does not ring; then it waits on the gate.
        const skipperCommit = skipper.query('COMMIT');
        await waitingAtGate();
        await insertOrder(ringer, 'ringer');
        await ringer.query('COMMIT');
        await until(() => readOf('ringer') !== undefined, 10_000, 'the ringer');
        const ringerRead = readOf('ringer')!;
        // The skipper is still committing: the listener keeps looking while it is in progress.
        await until(() => reader.reads >= ringerRead + 2, 10_000, 'follow-up reads');
        expect(readOf('skipper')).toBeUndefined();
        await gate.query(`SELECT pg_advisory_unlock($1)`, [GATE_KEY]);
        await skipperCommit;
        await until(() => readOf('skipper') !== undefined, 20_000, 'the skipper, read by a follow-up');
      } finally {
        gate.release();
        ringer.release();
        skipper.release();
      }
    }
  );
});
