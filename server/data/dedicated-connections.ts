import pg from 'pg';
import createSubscriber, { type Subscriber } from 'pg-listen';
import type { Logger } from 'pino';

// The connections Pulse holds outside the request pool (Sequelize's, behind `Db`), each for one job
// that must never wait behind a request or make one wait: the change listener's LISTEN, the change
// reader and replays, the background work (wallboard reconciles, analytics rollups), and the
// Socket.IO adapter's LISTEN. Services never see these: they take a `Db` (poolDb over a pool here).

/** Limits a pool may add: how long to wait for a connection, how long a statement may run. */
export type PoolLimits = Pick<pg.PoolConfig, 'connectionTimeoutMillis' | 'statement_timeout'>;

/**
 * A pool whose connections may die under it (a restart, pg_terminate_backend) without taking the
 * process down: the error is logged and the next query gets a fresh connection. The pool only
 * listens on idle connections; one checked out emits 'error' besides failing its query, so each
 * connection gets a listener of its own for its whole life.
 */
export function resilientPool(
  connectionString: string,
  name: string,
  max: number,
  logger: Logger,
  limits: PoolLimits = {}
): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, application_name: name, ...limits });
  const onError = connectionLost(name, logger);
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
  return pool;
}

/** A connection of its own, outside any pool, that logs rather than throws when it dies. */
export async function dedicatedClient(
  connectionString: string,
  name: string,
  logger: Logger
): Promise<pg.Client> {
  const client = new pg.Client({ connectionString, application_name: name });
  client.on('error', connectionLost(name, logger));
  await client.connect();
  return client;
}

const connectionLost = (name: string, logger: Logger) => (err: Error) =>
  logger.warn({ err: err.message, pool: name }, 'database connection lost');

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
      const client = await dedicatedClient(connectionString, name, logger);
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
