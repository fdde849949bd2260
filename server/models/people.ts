import {
  DataTypes,
  Model,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type Sequelize
} from 'sequelize';
import { USER_ROLES, type UserRole } from '#shared/enums.js';

// The only Sequelize models: what lucia's session adapter (server/auth/session-adapter.ts) reads
// and writes. Services query through `Db` (server/data/db.ts) instead. tests/integration/models.test.ts
// holds these attributes to the database's columns.

/** The part of a user a session needs: who it is and whether they may still sign in. */
export class User extends Model<InferAttributes<User>, InferCreationAttributes<User>> {
  declare id: CreationOptional<number>;
  declare email: string;
  declare name: string;
  declare role: CreationOptional<UserRole>;
  declare teamId: number | null;
  declare active: CreationOptional<boolean>;
}

/** `id` is the SHA-256 (hex) of the session id held in the browser's cookie, never the id itself. */
export class Session extends Model<InferAttributes<Session>, InferCreationAttributes<Session>> {
  declare id: string;
  declare userId: number;
  declare expiresAt: Date;
  declare createdAt: CreationOptional<Date>;
  declare ip: string | null;
  declare userAgent: string | null;
}

export function initPeople(sequelize: Sequelize) {
  User.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      email: { type: DataTypes.TEXT, allowNull: false },
      name: { type: DataTypes.TEXT, allowNull: false },
      role: { type: DataTypes.ENUM(...USER_ROLES), allowNull: false },
      teamId: { type: DataTypes.INTEGER, allowNull: true },
      active: { type: DataTypes.BOOLEAN, allowNull: false }
    },
    { sequelize, tableName: 'users' }
  );
  Session.init(
    {
      id: { type: DataTypes.TEXT, primaryKey: true },
      userId: { type: DataTypes.INTEGER, allowNull: false },
      expiresAt: { type: DataTypes.DATE, allowNull: false },
      createdAt: { type: DataTypes.DATE, allowNull: false },
      ip: { type: DataTypes.INET, allowNull: true },
      userAgent: { type: DataTypes.TEXT, allowNull: true }
    },
    { sequelize, tableName: 'sessions' }
  );
  Session.belongsTo(User, { foreignKey: 'userId', as: 'user' });
}
