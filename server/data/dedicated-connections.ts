import pg from 'pg';
import createSubscriber, { type Subscriber } from 'pg-listen';
import type { Logger } from 'pino';

// The connections Pulse holds outside the request pool (Sequelize's, behind `Db`), each for one job
// that must never wait behind a request or make one wait: the change listener's LISTEN, the change
// reader and replays, the background work (wallboard reconciles, analytics rollups), and the
// Socket.IO adapter's LISTEN. Services never see these: they take a `Db` (poolDb over a pool here).

/**
 * A pool whose connections may die under it (a restart, pg_terminate_backend) without taking the
 * process down: the error is logged and the next query gets a fresh connection.
 */
export function resilientPool(connectionString: string, name: string, max: number, logger: Logger): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, application_name: name });
  const onError = (err: Error) => logger.warn({ err: err.message, pool: name }, 'database connection lost');
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
  return pool;
}

/**
 * The one LISTEN connection of a process (`pulse-listener`). pg-listen gives up after 3 s of
 * reconnecting by default; a server must outlive any database outage, so it retries forever.
 */
export function listenConnection(connectionString: string): Subscriber {
  return createSubscriber(
    { connectionString, application_name: 'pulse-listener' },
    {
      retryLimit: Infinity,
      retryTimeout: 0,
      retryInterval: (n) => Math.min(250 * n, 2000),
      paranoidChecking: 5000,
      parse: (s) => s
    }
  );
}

/**
 * What the Socket.IO Postgres adapter needs of a pool: queries, and one long-lived connection for
 * its LISTEN. That connection is a client of its own, so one that dies with a restart never blocks
 * shutdown (a pool waits for every checked-out client before it ends).
 */
export function adapterConnections(connectionString: string, logger: Logger) {
  const name = 'pulse-socket-adapter';
  const queries = resilientPool(connectionString, name, 2, logger);
  const listeners = new Set<pg.Client>();
  return {
    query: queries.query.bind(queries),
    connect: async () => {
      const client = new pg.Client({ connectionString, application_name: name });
      client.on('error', (err) => logger.warn({ err: err.message, pool: name }, 'database connection lost'));
      await client.connect();
      listeners.add(client);
      return Object.assign(client, {
        release: () => {
          listeners.delete(client);
          void client.end().catch(() => undefined);
        }
      });
    },
    end: async () => {
      await Promise.allSettled([...listeners].map((c) => c.end()));
      await queries.end();
    }
  };
}
