import type { AgentStatus, UserRole } from './enums.js';
import type { StoreDelivery } from './schemas/storefront.js';
import type {
  CustomerSummary,
  LoyaltyAccountSummary,
  LoyaltyEntry,
  OrderSummary,
  TicketMessage,
  TicketSummary
} from './schemas/live.js';
import type { ListEntity } from './lists/query.js';
import type { CustomerMerge } from './schemas/merge.js';
import type { ProductSummary, StockMovement } from './schemas/inventory.js';
import type { BulkJob } from './schemas/bulk.js';
import type { ImportJob } from './schemas/imports.js';
import type { PreviewJob } from './schemas/loyalty-editor.js';
import type { WallboardSnapshot } from './schemas/metrics.js';
import type { Segment, SegmentMembershipChange } from './schemas/segments.js';
import type {
  ConsentRecord,
  CustomerContact,
  NoteRecord,
  OrderStatusChange,
  ProfileChange,
  TierChange
} from './schemas/customer360.js';

/**
 * Every database-originated event carries:
 * - `seq`: its change_log id (unique; the client drops a seq it already applied);
 * - `horizon`: a resume cursor, a stream position (`xmin:xmax:xip`, see stream-position.ts).
 *   Every change before it was sent before this event, so a client that reconnects with the
 *   horizon of the last event it applied is sent everything it may have missed (and drops the
 *   seqs it already has).
 */
export interface LiveMeta {
  seq: number;
  horizon: string;
  /** When the change was written (database clock, ISO). */
  at: string;
}

export interface Change<T> extends LiveMeta {
  op: 'insert' | 'update' | 'delete';
  data: T;
  /** On updates, the previous values of the fields that changed. */
  old?: Partial<T>;
}

export interface LoyaltyChange extends LiveMeta {
  customerId: number;
  account?: LoyaltyAccountSummary;
  entry?: LoyaltyEntry;
}

export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface Viewer {
  userId: number;
  name: string;
  typing: boolean;
}

export type Ack<T> = (result: { data: T } | { error: { code: string; message: string } }) => void;

/** Server to client: past tense. */
export interface ServerToClientEvents {
  'live:ready': (info: { horizon: string; replayed: number }) => void;
  /** The gap since the client's cursor is gone from the log, or a burst was too big to send: reload. */
  'live:resync': (info: { reason: 'retention' | 'burst'; topics: string[]; horizon: string }) => void;
  'order:created': (e: Change<OrderSummary>) => void;
  'order:updated': (e: Change<OrderSummary>) => void;
  'ticket:created': (e: Change<TicketSummary>) => void;
  'ticket:updated': (e: Change<TicketSummary>) => void;
  'ticket:message_added': (e: Change<TicketMessage>) => void;
  'loyalty:changed': (e: LoyaltyChange) => void;
  'customer:updated': (e: Change<CustomerSummary>) => void;
  /** A product was added to the catalogue (sent to `list:products`). */
  'product:created': (e: Change<ProductSummary>) => void;
  /**
   * A product changed (stock, threshold, price...) or was deleted (`op`): sent to `list:products`
   * and its `product:<id>` room.
   */
  'product:updated': (e: Change<ProductSummary>) => void;
  /**
   * Two customers became one: sent to both customers' rooms and the managers. The merged id is
   * an alias of the survivor from now on (its page shows where it went; the survivor's reloads).
   */
  'customer:merged': (e: LiveMeta & { survivorId: number; mergedId: number; merge: CustomerMerge }) => void;
  // The customer 360's timeline, to the customer's room (`customer:watch`) only.
  'order:status_changed': (e: Change<OrderStatusChange>) => void;
  'loyalty:tier_changed': (e: Change<TierChange>) => void;
  /** One field of the profile changed (the database's change log: whoever wrote it, psql too). */
  'customer:profile_changed': (e: Change<ProfileChange>) => void;
  'customer:consent_recorded': (e: Change<ConsentRecord>) => void;
  'customer:note_added': (e: Change<NoteRecord>) => void;
  'customer:note_removed': (e: Change<NoteRecord>) => void;
  'customer:contact_changed': (e: Change<CustomerContact>) => void;
  /** A stock movement was written (a receipt, a sale, a return, an adjustment). */
  'stock:moved': (e: Change<StockMovement>) => void;
  /** A storefront delivery was received or applied (or failed): the stores admin's list, to `role:manager`. */
  'store:delivery_changed': (e: Change<StoreDelivery>) => void;
  /** A customer entered or left a segment (to the customer's room, the managers and the customers list). */
  'segment:entered': (e: Change<SegmentMembershipChange>) => void;
  'segment:left': (e: Change<SegmentMembershipChange>) => void;
  /** A segment was created, edited (its rule, name, count) or deleted (`op`). */
  'segment:changed': (e: Change<Segment>) => void;
  'presence:changed': (info: { ticketId: number; viewers: Viewer[] }) => void;
  /** An agent's availability changed (online, busy, away, offline), or their capacity. */
  'agent:status_changed': (e: LiveMeta & { agent: AgentAvailability }) => void;
  /**
   * The wallboard's numbers, whole (latest wins; a few frames a second at most). Sent to the
   * `wallboard` room: managers who sent `wallboard:watch`, and TVs connected with a wallboard token.
   */
  'wallboard:updated': (snapshot: WallboardSnapshot) => void;
  /**
   * A bulk job of this user moved on: started, a batch committed, finished, cancelled or failed.
   * Sent by the runner to the creator's `user:<id>` room only (not a row change of the log: no
   * seq; apply when `processed` is not behind what is shown, or when the job has finished).
   * `GET /api/bulk/:id` answers the same state after a reload or a reconnect.
   */
  'bulk:progress': (job: BulkJob) => void;
  /**
   * An import job of this user moved on (started, a batch applied, finished or failed): the same
   * delivery as `bulk:progress` (the creator's `user:<id>` room, no seq); `GET /api/imports/:id`
   * answers the same state after a reload.
   */
  'import:progress': (job: ImportJob) => void;
  /**
   * A loyalty program impact preview this user started moved on (a month replayed, done or
   * failed). To the starter's `user:<id>` room only, no seq, as `bulk:progress`;
   * `GET /api/loyalty-program/previews/:id` answers the same after a reload.
   */
  'loyalty:preview_progress': (job: PreviewJob) => void;
  /**
   * Something the campaign's report counts changed: members were assigned, or a member's order
   * dated inside the window was written. Sent to `campaign:<id>`; the screen asks for the report again.
   */
  'campaign:activity': (
    e: LiveMeta & { campaignId: number; kind: 'members' | 'orders'; count: number }
  ) => void;
}

/** The events that carry a change of the log (`LiveMeta`): replayed on resume, deduplicated by seq. */
export const DELIVERED_EVENTS = [
  'order:created',
  'order:updated',
  'ticket:created',
  'ticket:updated',
  'ticket:message_added',
  'loyalty:changed',
  'customer:updated',
  'product:created',
  'product:updated',
  'customer:merged',
  'agent:status_changed',
  'order:status_changed',
  'loyalty:tier_changed',
  'customer:profile_changed',
  'customer:consent_recorded',
  'customer:note_added',
  'customer:note_removed',
  'customer:contact_changed',
  'stock:moved',
  'store:delivery_changed',
  'campaign:activity',
  'segment:entered',
  'segment:left',
  'segment:changed'
] as const satisfies readonly (keyof ServerToClientEvents)[];

export interface AgentAvailability {
  id: number;
  name: string;
  teamId: number | null;
  status: AgentStatus;
  capacity: number;
  /** False once the user is deactivated; role tells whether they still take tickets. */
  active: boolean;
  role: UserRole;
  statusChangedAt: string;
}

/** Client to server: imperative, answered through an ack. */
export interface ClientToServerEvents {
  'ticket:watch': (ticketId: number, ack: Ack<{ viewers: Viewer[] }>) => void;
  'ticket:unwatch': (ticketId: number, ack?: Ack<{ ok: true }>) => void;
  'ticket:typing': (payload: { ticketId: number; typing: boolean }) => void;
  'customer:watch': (customerId: number, ack: Ack<{ ok: true }>) => void;
  /** Who is viewing which ticket right now, for the tickets this user may see (a queue's first paint). */
  'presence:list': (ack: Ack<{ tickets: { ticketId: number; viewers: Viewer[] }[] }>) => void;
  'customer:unwatch': (customerId: number) => void;
  /** Joins `product:<id>` (everyone may see products): its stock movements and changes, live. */
  'product:watch': (productId: number, ack: Ack<{ ok: true }>) => void;
  'product:unwatch': (productId: number) => void;
  /** Managers and admins: join the `wallboard` room; the ack carries the current snapshot. */
  'wallboard:watch': (ack: Ack<WallboardSnapshot>) => void;
  'wallboard:unwatch': (ack?: Ack<{ ok: true }>) => void;
  /**
   * Join `list:<entity>`: the changes of that table's rows (customers: customer, order and
   * loyalty changes; orders: order changes; products: product changes), for a list screen to
   * learn about new, changed and gone rows. Refused (`forbidden`) for a role that may not see it.
   */
  'list:watch': (entity: ListEntity, ack: Ack<{ ok: true }>) => void;
  'list:unwatch': (entity: ListEntity, ack?: Ack<{ ok: true }>) => void;
  /** Managers and admins: join `campaign:<id>` (its report's activity). */
  'campaign:watch': (campaignId: number, ack: Ack<{ ok: true }>) => void;
  'campaign:unwatch': (campaignId: number) => void;
  /**
   * Sends what this socket's rooms received after `since` (a stream position a REST response
   * carried), up to the live stream: for state loaded before the socket was live, or before it
   * joined a room. Held live events follow the replay, so nothing arrives out of order.
   */
  'live:catch_up': (since: string, ack: Ack<{ replayed: number; horizon: string }>) => void;
}

export interface SocketData {
  userId: number;
  name: string;
  role: UserRole;
  teamId: number | null;
  /** SHA-256 of the session id, to find the socket when the session ends. */
  sessionHash: string;
  sessionExpiresAt: number;
  /** Ticket rooms joined after a policy check: ticket id -> the ticket's team id. */
  watching: Record<number, number>;
  /** Ticket ids this socket is typing a reply in. */
  typing: Record<number, boolean>;
  /** Set on a TV's socket opened with a wallboard token: it sees the wallboard only (no user rooms). */
  wallboardTokenId?: number;
}

/** Handshake `auth` a client sends. */
export interface HandshakeAuth {
  /**
   * The stream position to resume from: the horizon of the last event applied, or the position
   * of the oldest REST state on screen. Everything after it that the socket may see is replayed
   * before any live event.
   */
  horizon?: string;
  /** Topic rooms to be in from the start, so the replay covers them too (same checks as the watch events). */
  watch?: { tickets?: number[]; customers?: number[]; products?: number[]; lists?: ListEntity[] };
  /** A TV's read-only wallboard token (instead of a session cookie). */
  wallboardToken?: string;
}
