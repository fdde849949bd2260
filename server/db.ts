import pg from 'pg';
import { Sequelize } from 'sequelize';

// Postgres `bigint` and `numeric` stay strings (exact); counts that we know are small are cast in SQL.
// `int8` ids of change_log are parsed where they are read.

export function createSequelize(url: string, opts: { poolMax?: number; logging?: (sql: string) => void } = {}) {
  return new Sequelize(url, {
    dialect: 'postgres',
    dialectModule: pg,
    logging: opts.logging ?? false,
    pool: { max: opts.poolMax ?? 10, min: 0, idle: 10_000, acquire: 30_000 },
    define: { underscored: true, timestamps: false }
  });
}
