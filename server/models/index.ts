import type { Sequelize } from 'sequelize';
import { initCommerce } from './commerce.js';
import { initLoyalty } from './loyalty.js';
import { initPeople } from './people.js';
import { initSupport } from './support.js';

export * from './commerce.js';
export * from './loyalty.js';
export * from './people.js';
export * from './support.js';

/** Binds every model to one Sequelize instance (one per process). */
export function initModels(sequelize: Sequelize) {
  initPeople(sequelize);
  initCommerce(sequelize);
  initSupport(sequelize);
  initLoyalty(sequelize);
}
