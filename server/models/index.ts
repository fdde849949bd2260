import type { Sequelize } from 'sequelize';
import { initPeople } from './people.js';

export * from './people.js';

/** Binds the models to one Sequelize instance (one per process). */
export function initModels(sequelize: Sequelize) {
  initPeople(sequelize);
}
