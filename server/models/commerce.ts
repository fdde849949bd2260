import {
  DataTypes,
  Model,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type Sequelize
} from 'sequelize';
import { ORDER_STATUSES, SALES_CHANNELS, type OrderStatus, type SalesChannel } from '#shared/enums.js';

export interface Address {
  label?: string;
  line1: string;
  line2?: string;
  city: string;
  region?: string;
  postalCode: string;
  country: string;
}

export class Customer extends Model<InferAttributes<Customer>, InferCreationAttributes<Customer>> {
  declare id: CreationOptional<number>;
  declare email: string;
  declare firstName: string;
  declare lastName: CreationOptional<string>;
  declare phone: string | null;
  declare addresses: CreationOptional<Address[]>;
  declare preferredChannels: CreationOptional<string[]>;
  declare language: CreationOptional<string>;
  declare marketingConsent: CreationOptional<boolean>;
  declare marketingConsentAt: Date | null;
  declare tags: CreationOptional<string[]>;
  declare notes: CreationOptional<string>;
  declare attributes: CreationOptional<Record<string, unknown>>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export class Category extends Model<InferAttributes<Category>, InferCreationAttributes<Category>> {
  declare id: CreationOptional<number>;
  declare name: string;
  declare parentId: number | null;
}

/** Money columns are NUMERIC: Sequelize hands them over as exact decimal strings. */
export class Product extends Model<InferAttributes<Product>, InferCreationAttributes<Product>> {
  declare id: CreationOptional<number>;
  declare sku: string;
  declare name: string;
  declare description: CreationOptional<string>;
  declare categoryId: number | null;
  declare price: string;
  declare stock: CreationOptional<number>;
  declare attributes: CreationOptional<Record<string, unknown>>;
  declare active: CreationOptional<boolean>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export class Order extends Model<InferAttributes<Order>, InferCreationAttributes<Order>> {
  declare id: CreationOptional<number>;
  declare customerId: number;
  declare orderDate: CreationOptional<Date>;
  declare status: CreationOptional<OrderStatus>;
  declare total: string;
  declare currency: CreationOptional<string>;
  declare channel: CreationOptional<SalesChannel>;
  declare externalId: string | null;
  declare attributes: CreationOptional<Record<string, unknown>>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export class OrderItem extends Model<InferAttributes<OrderItem>, InferCreationAttributes<OrderItem>> {
  declare id: CreationOptional<number>;
  declare orderId: number;
  declare productId: number;
  declare quantity: number;
  declare unitPrice: string;
}

export class Review extends Model<InferAttributes<Review>, InferCreationAttributes<Review>> {
  declare id: CreationOptional<number>;
  declare customerId: number;
  declare productId: number;
  declare rating: number;
  declare title: CreationOptional<string>;
  declare body: CreationOptional<string>;
  declare createdAt: CreationOptional<Date>;
}

const id = { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true };
const json = { type: DataTypes.JSONB };
const stamp = { type: DataTypes.DATE };

export function initCommerce(sequelize: Sequelize) {
  Customer.init(
    {
      id,
      email: { type: DataTypes.TEXT, allowNull: false },
      firstName: { type: DataTypes.TEXT, allowNull: false },
      lastName: { type: DataTypes.TEXT },
      phone: { type: DataTypes.TEXT, allowNull: true },
      addresses: json,
      preferredChannels: { type: DataTypes.ARRAY(DataTypes.TEXT) },
      language: { type: DataTypes.TEXT },
      marketingConsent: { type: DataTypes.BOOLEAN },
      marketingConsentAt: { type: DataTypes.DATE, allowNull: true },
      tags: { type: DataTypes.ARRAY(DataTypes.TEXT) },
      notes: { type: DataTypes.TEXT },
      attributes: json,
      createdAt: stamp,
      updatedAt: stamp
    },
    { sequelize, tableName: 'customers' }
  );
  Category.init(
    {
      id,
      name: { type: DataTypes.TEXT, allowNull: false },
      parentId: { type: DataTypes.INTEGER, allowNull: true }
    },
    { sequelize, tableName: 'categories' }
  );
  Product.init(
    {
      id,
      sku: { type: DataTypes.TEXT, allowNull: false },
      name: { type: DataTypes.TEXT, allowNull: false },
      description: { type: DataTypes.TEXT },
      categoryId: { type: DataTypes.INTEGER, allowNull: true },
      price: { type: DataTypes.DECIMAL(12, 2), allowNull: false },
      stock: { type: DataTypes.INTEGER },
      attributes: json,
      active: { type: DataTypes.BOOLEAN },
      createdAt: stamp,
      updatedAt: stamp
    },
    { sequelize, tableName: 'products' }
  );
  Order.init(
    {
      id,
      customerId: { type: DataTypes.INTEGER, allowNull: false },
      orderDate: stamp,
      status: { type: DataTypes.ENUM(...ORDER_STATUSES) },
      total: { type: DataTypes.DECIMAL(12, 2), allowNull: false },
      currency: { type: DataTypes.CHAR(3) },
      channel: { type: DataTypes.ENUM(...SALES_CHANNELS) },
      externalId: { type: DataTypes.TEXT, allowNull: true },
      attributes: json,
      createdAt: stamp,
      updatedAt: stamp
    },
    { sequelize, tableName: 'orders' }
  );
  OrderItem.init(
    {
      id,
      orderId: { type: DataTypes.INTEGER, allowNull: false },
      productId: { type: DataTypes.INTEGER, allowNull: false },
      quantity: { type: DataTypes.INTEGER, allowNull: false },
      unitPrice: { type: DataTypes.DECIMAL(12, 2), allowNull: false }
    },
    { sequelize, tableName: 'order_items' }
  );
  Review.init(
    {
      id,
      customerId: { type: DataTypes.INTEGER, allowNull: false },
      productId: { type: DataTypes.INTEGER, allowNull: false },
      rating: { type: DataTypes.SMALLINT, allowNull: false },
      title: { type: DataTypes.TEXT },
      body: { type: DataTypes.TEXT },
      createdAt: stamp
    },
    { sequelize, tableName: 'reviews' }
  );
  Product.belongsTo(Category, { foreignKey: 'categoryId', as: 'category' });
  Order.belongsTo(Customer, { foreignKey: 'customerId', as: 'customer' });
  Customer.hasMany(Order, { foreignKey: 'customerId', as: 'orders' });
  Order.hasMany(OrderItem, { foreignKey: 'orderId', as: 'items' });
  OrderItem.belongsTo(Product, { foreignKey: 'productId', as: 'product' });
  Review.belongsTo(Product, { foreignKey: 'productId', as: 'product' });
  Review.belongsTo(Customer, { foreignKey: 'customerId', as: 'customer' });
}
