import pg from 'pg';
import { Sequelize } from 'sequelize';
import { initModels } from './models/index.js';

export function createSequelize(url: string, opts: { poolMax?: number } = {}) {
  return new Sequelize(url, {
    dialect: 'postgres',
    dialectModule: pg,
    logging: false,
    pool: { max: opts.poolMax ?? 10, min: 0, idle: 10_000, acquire: 30_000 },
    define: { underscored: true, timestamps: false }
  });
}

// Sequelize models are bound to one instance per process, so every server started in this
// process (the tests start several) shares it, and it closes when the last one stops.
let shared: { url: string; sequelize: Sequelize; users: number } | undefined;

export function acquireSequelize(url: string): { sequelize: Sequelize; release: () => Promise<void> } {
  if (shared && shared.url !== url) {
    throw new Error('One Pulse process serves one database; this one already serves another');
  }
  if (!shared) {
    const sequelize = createSequelize(url);
    initModels(sequelize);
    shared = { url, sequelize, users: 0 };
  }
  const entry = shared;
  entry.users += 1;
  let released = false;
  return {
    sequelize: entry.sequelize,
    release: async () => {
      if (released) return;
      released = true;
      entry.users -= 1;
      if (entry.users === 0) {
        if (shared === entry) shared = undefined;
        await entry.sequelize.close();
      }
    }
  };
}
