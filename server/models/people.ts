import {
  DataTypes,
  Model,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type Sequelize
} from 'sequelize';
import { AGENT_STATUSES, USER_ROLES, type AgentStatus, type UserRole } from '#shared/enums.js';

export class Team extends Model<InferAttributes<Team>, InferCreationAttributes<Team>> {
  declare id: CreationOptional<number>;
  declare name: string;
  declare autoAssign: CreationOptional<boolean>;
  declare createdAt: CreationOptional<Date>;
}

export class User extends Model<InferAttributes<User>, InferCreationAttributes<User>> {
  declare id: CreationOptional<number>;
  declare email: string;
  declare name: string;
  declare passwordHash: string;
  declare role: CreationOptional<UserRole>;
  declare teamId: number | null;
  declare active: CreationOptional<boolean>;
  declare status: CreationOptional<AgentStatus>;
  declare statusChangedAt: CreationOptional<Date>;
  declare capacity: CreationOptional<number>;
  declare lastAssignedAt: CreationOptional<Date | null>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
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

export class AuditEntry extends Model<InferAttributes<AuditEntry>, InferCreationAttributes<AuditEntry>> {
  declare id: CreationOptional<string>;
  declare at: CreationOptional<Date>;
  declare actorUserId: number | null;
  declare action: string;
  declare targetType: string | null;
  declare targetId: string | null;
  declare ip: string | null;
  declare details: CreationOptional<Record<string, unknown>>;
}

export function initPeople(sequelize: Sequelize) {
  Team.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      name: { type: DataTypes.TEXT, allowNull: false },
      autoAssign: { type: DataTypes.BOOLEAN },
      createdAt: { type: DataTypes.DATE }
    },
    { sequelize, tableName: 'teams' }
  );
  User.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      email: { type: DataTypes.TEXT, allowNull: false },
      name: { type: DataTypes.TEXT, allowNull: false },
      passwordHash: { type: DataTypes.TEXT, allowNull: false },
      role: { type: DataTypes.ENUM(...USER_ROLES) },
      teamId: { type: DataTypes.INTEGER, allowNull: true },
      active: { type: DataTypes.BOOLEAN },
      status: { type: DataTypes.ENUM(...AGENT_STATUSES) },
      statusChangedAt: { type: DataTypes.DATE },
      capacity: { type: DataTypes.INTEGER },
      lastAssignedAt: { type: DataTypes.DATE, allowNull: true },
      createdAt: { type: DataTypes.DATE },
      updatedAt: { type: DataTypes.DATE }
    },
    { sequelize, tableName: 'users' }
  );
  Session.init(
    {
      id: { type: DataTypes.TEXT, primaryKey: true },
      userId: { type: DataTypes.INTEGER, allowNull: false },
      expiresAt: { type: DataTypes.DATE, allowNull: false },
      createdAt: { type: DataTypes.DATE },
      ip: { type: DataTypes.INET, allowNull: true },
      userAgent: { type: DataTypes.TEXT, allowNull: true }
    },
    { sequelize, tableName: 'sessions' }
  );
  AuditEntry.init(
    {
      id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
      at: { type: DataTypes.DATE },
      actorUserId: { type: DataTypes.INTEGER, allowNull: true },
      action: { type: DataTypes.TEXT, allowNull: false },
      targetType: { type: DataTypes.TEXT, allowNull: true },
      targetId: { type: DataTypes.TEXT, allowNull: true },
      ip: { type: DataTypes.INET, allowNull: true },
      details: { type: DataTypes.JSONB }
    },
    { sequelize, tableName: 'audit_log' }
  );
  User.belongsTo(Team, { foreignKey: 'teamId', as: 'team' });
  Session.belongsTo(User, { foreignKey: 'userId', as: 'user' });
}
