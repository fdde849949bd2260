import {
  DataTypes,
  Model,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type Sequelize
} from 'sequelize';
import {
  MESSAGE_AUTHORS,
  TICKET_CHANNELS,
  TICKET_PRIORITIES,
  TICKET_STATUSES,
  type MessageAuthor,
  type TicketChannel,
  type TicketPriority,
  type TicketStatus
} from '#shared/enums.js';
import { Customer, Order } from './commerce.js';
import { Team, User } from './people.js';

export class Ticket extends Model<InferAttributes<Ticket>, InferCreationAttributes<Ticket>> {
  declare id: CreationOptional<number>;
  declare customerId: number;
  declare orderId: number | null;
  declare subject: string;
  declare status: CreationOptional<TicketStatus>;
  declare priority: CreationOptional<TicketPriority>;
  declare channel: CreationOptional<TicketChannel>;
  declare assigneeId: number | null;
  declare teamId: number;
  declare tags: CreationOptional<string[]>;
  declare firstResponseDueAt: Date | null;
  declare resolutionDueAt: Date | null;
  declare firstRespondedAt: Date | null;
  declare resolvedAt: Date | null;
  declare closedAt: Date | null;
  declare csatScore: number | null;
  declare csatAt: Date | null;
  declare lastMessageAt: CreationOptional<Date>;
  declare flagged: CreationOptional<boolean>;
  declare assignedAt: CreationOptional<Date | null>;
  declare version: CreationOptional<number>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export class TicketMessage extends Model<
  InferAttributes<TicketMessage>,
  InferCreationAttributes<TicketMessage>
> {
  declare id: CreationOptional<number>;
  declare ticketId: number;
  declare authorType: MessageAuthor;
  declare authorUserId: number | null;
  declare body: string;
  declare internal: CreationOptional<boolean>;
  declare createdAt: CreationOptional<Date>;
}

const nullableDate = { type: DataTypes.DATE, allowNull: true };

export function initSupport(sequelize: Sequelize) {
  Ticket.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      customerId: { type: DataTypes.INTEGER, allowNull: false },
      orderId: { type: DataTypes.INTEGER, allowNull: true },
      subject: { type: DataTypes.TEXT, allowNull: false },
      status: { type: DataTypes.ENUM(...TICKET_STATUSES) },
      priority: { type: DataTypes.ENUM(...TICKET_PRIORITIES) },
      channel: { type: DataTypes.ENUM(...TICKET_CHANNELS) },
      assigneeId: { type: DataTypes.INTEGER, allowNull: true },
      teamId: { type: DataTypes.INTEGER, allowNull: false },
      tags: { type: DataTypes.ARRAY(DataTypes.TEXT) },
      firstResponseDueAt: nullableDate,
      resolutionDueAt: nullableDate,
      firstRespondedAt: nullableDate,
      resolvedAt: nullableDate,
      closedAt: nullableDate,
      csatScore: { type: DataTypes.SMALLINT, allowNull: true },
      csatAt: nullableDate,
      lastMessageAt: { type: DataTypes.DATE },
      flagged: { type: DataTypes.BOOLEAN },
      assignedAt: { type: DataTypes.DATE, allowNull: true },
      version: { type: DataTypes.INTEGER },
      createdAt: { type: DataTypes.DATE },
      updatedAt: { type: DataTypes.DATE }
    },
    { sequelize, tableName: 'tickets' }
  );
  TicketMessage.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      ticketId: { type: DataTypes.INTEGER, allowNull: false },
      authorType: { type: DataTypes.ENUM(...MESSAGE_AUTHORS), allowNull: false },
      authorUserId: { type: DataTypes.INTEGER, allowNull: true },
      body: { type: DataTypes.TEXT, allowNull: false },
      internal: { type: DataTypes.BOOLEAN },
      createdAt: { type: DataTypes.DATE }
    },
    { sequelize, tableName: 'ticket_messages' }
  );
  Ticket.belongsTo(Customer, { foreignKey: 'customerId', as: 'customer' });
  Ticket.belongsTo(Order, { foreignKey: 'orderId', as: 'order' });
  Ticket.belongsTo(User, { foreignKey: 'assigneeId', as: 'assignee' });
  Ticket.belongsTo(Team, { foreignKey: 'teamId', as: 'team' });
  Ticket.hasMany(TicketMessage, { foreignKey: 'ticketId', as: 'messages' });
  TicketMessage.belongsTo(User, { foreignKey: 'authorUserId', as: 'author' });
}
