import {
  DataTypes,
  Model,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type Sequelize
} from 'sequelize';
import {
  LOYALTY_ENTRY_KINDS,
  LOYALTY_TIERS,
  type LoyaltyEntryKind,
  type LoyaltyTier
} from '#shared/enums.js';
import { Customer } from './commerce.js';

/** Balance, lifetime points and tier are maintained by the database from the ledger. */
export class LoyaltyAccount extends Model<
  InferAttributes<LoyaltyAccount>,
  InferCreationAttributes<LoyaltyAccount>
> {
  declare id: CreationOptional<number>;
  declare customerId: number;
  declare balance: CreationOptional<number>;
  declare lifetimePoints: CreationOptional<number>;
  declare tier: CreationOptional<LoyaltyTier>;
  declare joinedAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

/** Append-only: the database refuses updates and deletes. */
export class LoyaltyEntry extends Model<
  InferAttributes<LoyaltyEntry>,
  InferCreationAttributes<LoyaltyEntry>
> {
  declare id: CreationOptional<string>;
  declare accountId: number;
  declare kind: LoyaltyEntryKind;
  declare points: number;
  declare reason: string;
  declare orderId: number | null;
  declare reversesId: string | null;
  declare idempotencyKey: string;
  declare createdAt: CreationOptional<Date>;
}

export function initLoyalty(sequelize: Sequelize) {
  LoyaltyAccount.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      customerId: { type: DataTypes.INTEGER, allowNull: false },
      balance: { type: DataTypes.INTEGER },
      lifetimePoints: { type: DataTypes.INTEGER },
      tier: { type: DataTypes.ENUM(...LOYALTY_TIERS) },
      joinedAt: { type: DataTypes.DATE },
      updatedAt: { type: DataTypes.DATE }
    },
    { sequelize, tableName: 'loyalty_accounts' }
  );
  LoyaltyEntry.init(
    {
      id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
      accountId: { type: DataTypes.INTEGER, allowNull: false },
      kind: { type: DataTypes.ENUM(...LOYALTY_ENTRY_KINDS), allowNull: false },
      points: { type: DataTypes.INTEGER, allowNull: false },
      reason: { type: DataTypes.TEXT, allowNull: false },
      orderId: { type: DataTypes.INTEGER, allowNull: true },
      reversesId: { type: DataTypes.BIGINT, allowNull: true },
      idempotencyKey: { type: DataTypes.TEXT, allowNull: false },
      createdAt: { type: DataTypes.DATE }
    },
    { sequelize, tableName: 'loyalty_ledger' }
  );
  LoyaltyAccount.belongsTo(Customer, { foreignKey: 'customerId', as: 'customer' });
  Customer.hasOne(LoyaltyAccount, { foreignKey: 'customerId', as: 'loyalty' });
  LoyaltyEntry.belongsTo(LoyaltyAccount, { foreignKey: 'accountId', as: 'account' });
}
