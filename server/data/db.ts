import type pg from 'pg';
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';

/**
 * The one query interface of services (`(db, actor, input)`): parameterized queries (`$1`...)
 * returning plain rows, and a transaction whose `db` every statement (audit rows included) of the
 * unit of work goes through. Requests run on Sequelize's pool (`sequelizeDb`), background work on
 * a dedicated pool (`poolDb`, see dedicated-connections.ts); both fit.
 */
/** A row as a query returns it, before it is presented. */
export type Row = Record<string, unknown>;

export interface Db {
  query<T = Row>(sql: string, params?: unknown[]): Promise<T[]>;
  transaction<T>(work: (db: Db) => Promise<T>): Promise<T>;
}

export function sequelizeDb(sequelize: Sequelize, transaction?: Transaction): Db {
  return {
    query: <T>(sql: string, params: unknown[] = []) =>
      sequelize.query<T & object>(sql, { bind: params, type: QueryTypes.SELECT, transaction }) as Promise<
        T[]
      >,
    transaction: (work) =>
      transaction
        ? work(sequelizeDb(sequelize, transaction))
        : sequelize.transaction((t) => work(sequelizeDb(sequelize, t)))
  };
}

export function poolDb(pool: pg.Pool | pg.PoolClient): Db {
  return {
    query: async <T>(sql: string, params: unknown[] = []) => (await pool.query(sql, params)).rows as T[],
    // On a client, the caller's transaction (if any) is already open on it: the work joins it.
    transaction: (work) => ('release' in pool ? work(poolDb(pool)) : inTransaction(pool, work))
  };
}

/**
 * Runs `work` in a transaction of its own on a dedicated client (kept: a job's connection holding
 * its session lock) or on a connection of a pool (released after).
 */
export async function inTransaction<T>(
  on: pg.Pool | pg.PoolClient,
  work: (db: Db) => Promise<T>
): Promise<T> {
  const client = 'release' in on ? on : await on.connect();
  try {
    await client.query('BEGIN');
    try {
      const result = await work(poolDb(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  } finally {
    if (client !== on) client.release();
  }
}

/**
 * Runs a report's queries in one transaction with settings for reports: room to hash and sort in
 * memory (work_mem), and no JIT compilation (it costs more than it saves on queries this size).
 */
export function reportSession<T>(db: Db, work: (db: Db) => Promise<T>): Promise<T> {
  return db.transaction(async (t) => {
    await t.query(`SET LOCAL work_mem = '64MB'`);
    await t.query(`SET LOCAL jit = off`);
    return work(t);
  });
}
