import type { AgentStatus, TicketPriority, TicketStatus } from '#shared/enums.js';
import type { MetricKey } from '#shared/schemas/metrics.js';
import { formatHundredths, toHundredths } from '#shared/rules/money.js';
import { isOpenWork } from '#shared/rules/tickets.js';
import type { Row } from '../../data/db.js';

// The wallboard keeps a few facts about the rows that can move its numbers (today's and
// yesterday's orders, open and recent tickets, recent ledger entries...), and computes every number
// from them. A fact is always made from a row's snake_case JSON, whether the row came from a change
// (change_log.data) or from the reconcile query (jsonb_build_object of the same columns): one
// extraction, so the incremental and the recomputed wallboard cannot disagree on a definition.

/** The store's business days around now, as epoch milliseconds (computed by Postgres, DST-aware). */
export interface DayBounds {
  /** "YYYY-MM-DD" in the store's time zone. */
  day: string;
  yesterdayStart: number;
  todayStart: number;
  tomorrowStart: number;
}

export interface OrderFact {
  id: number;
  at: number;
  cents: number;
  /** A sale: every status but cancelled and refunded. */
  counted: boolean;
  refundedAt: number | null;
}

export interface TicketFact {
  id: number;
  status: TicketStatus;
  priority: TicketPriority;
  assigneeId: number | null;
  assignedAt: number | null;
  createdAt: number;
  firstResponseDueAt: number | null;
  resolutionDueAt: number | null;
  firstRespondedAt: number | null;
  resolvedAt: number | null;
  csatScore: number | null;
  csatAt: number | null;
}

export interface LedgerFact {
  id: number;
  at: number;
  kind: 'earn' | 'redeem';
  points: number;
}

export interface MemberFact {
  id: number;
  joinedAt: number;
}

export interface TierChangeFact {
  id: number;
  at: number;
  up: boolean;
}

export interface AgentFact {
  id: number;
  name: string;
  teamId: number | null;
  status: AgentStatus;
  capacity: number;
}

/** A ticket's or an agent's status change (ticket_status_changes, agent_status_changes). */
export interface StatusChangeFact<S extends string> {
  id: number;
  /** The ticket's or the agent's id. */
  subjectId: number;
  from: S;
  to: S;
  at: number;
}

export interface ThresholdFact {
  metric: MetricKey;
  comparison: 'above' | 'below';
  /** Exactly as stored, e.g. "20.00". */
  value: string;
  /** The value times 100, an integer: every tile is compared in hundredths. */
  hundredths: number;
}

const TIER_RANK = { bronze: 0, silver: 1, gold: 2, platinum: 3 } as const;

/** Epoch milliseconds; null for no instant and for one JavaScript cannot represent ('infinity': never due). */
export const ms = (v: unknown): number | null => {
  const at = v == null ? NaN : v instanceof Date ? v.getTime() : Date.parse(String(v));
  return Number.isFinite(at) ? at : null;
};
const int = (v: unknown): number | null => (v == null ? null : Number(v));

export function orderFact(d: Row): OrderFact {
  return {
    id: Number(d.id),
    at: ms(d.order_date)!,
    cents: toHundredths(d.total),
    counted: d.status !== 'cancelled' && d.status !== 'refunded',
    refundedAt: ms(d.refunded_at)
  };
}

export function ticketFact(d: Row): TicketFact {
  return {
    id: Number(d.id),
    status: d.status as TicketStatus,
    priority: d.priority as TicketPriority,
    assigneeId: int(d.assignee_id),
    assignedAt: ms(d.assigned_at),
    createdAt: ms(d.created_at)!,
    firstResponseDueAt: ms(d.first_response_due_at),
    resolutionDueAt: ms(d.resolution_due_at),
    firstRespondedAt: ms(d.first_responded_at),
    resolvedAt: ms(d.resolved_at),
    csatScore: int(d.csat_score),
    csatAt: ms(d.csat_at)
  };
}

/** Only earned and redeemed points show on the wallboard; other entries are no fact. */
export function ledgerFact(d: Row): LedgerFact | null {
  if (d.kind !== 'earn' && d.kind !== 'redeem') return null;
  return { id: Number(d.id), at: ms(d.created_at)!, kind: d.kind, points: Number(d.points) };
}

export function memberFact(d: Row): MemberFact {
  return { id: Number(d.id), joinedAt: ms(d.joined_at)! };
}

export function tierChangeFact(d: Row): TierChangeFact {
  return {
    id: Number(d.id),
    at: ms(d.changed_at)!,
    up: TIER_RANK[d.to_tier as keyof typeof TIER_RANK] > TIER_RANK[d.from_tier as keyof typeof TIER_RANK]
  };
}

/** An active agent, or null for anyone else (a manager, a deactivated agent). */
export function agentFact(d: Row): AgentFact | null {
  if (d.role !== 'agent' || d.active === false) return null;
  return {
    id: Number(d.id),
    name: String(d.name ?? ''),
    teamId: int(d.team_id),
    status: (d.status as AgentStatus) ?? 'offline',
    capacity: Number(d.capacity ?? 0)
  };
}

export function ticketStatusChangeFact(d: Row): StatusChangeFact<TicketStatus> {
  return {
    id: Number(d.id),
    subjectId: Number(d.ticket_id),
    from: d.from_status as TicketStatus,
    to: d.to_status as TicketStatus,
    at: ms(d.changed_at)!
  };
}

export function agentStatusChangeFact(d: Row): StatusChangeFact<AgentStatus> {
  return {
    id: Number(d.id),
    subjectId: Number(d.user_id),
    from: d.from_status as AgentStatus,
    to: d.to_status as AgentStatus,
    at: ms(d.changed_at)!
  };
}

/**
 * What a status was at `at`, from the current status and the changes since (any order): the
 * last change at or before `at` says where it went; failing that, the first change after `at`
 * says where it came from; with no change since, it is the current status.
 */
export function statusAt<S extends string>(
  current: S,
  changes: readonly StatusChangeFact<S>[],
  at: number
): S {
  let before: StatusChangeFact<S> | undefined;
  let after: StatusChangeFact<S> | undefined;
  for (const c of changes) {
    if (c.at <= at) {
      if (!before || c.at > before.at || (c.at === before.at && c.id > before.id)) before = c;
    } else if (!after || c.at < after.at || (c.at === after.at && c.id < after.id)) after = c;
  }
  return before ? before.to : after ? after.from : current;
}

export function thresholdFact(d: Row): ThresholdFact {
  const hundredths = toHundredths(d.value);
  return {
    metric: d.metric as MetricKey,
    comparison: d.comparison as 'above' | 'below',
    value: formatHundredths(hundredths),
    hundredths
  };
}

// Which rows the wallboard needs to remember, given where yesterday started. The reconcile query
// selects exactly these; a change to a row keeps or drops its fact by the same test.

export const keepOrder = (f: OrderFact, from: number) => f.at >= from || (f.refundedAt ?? -Infinity) >= from;

export const keepTicket = (f: TicketFact, from: number) =>
  isOpenWork(f.status) ||
  f.createdAt >= from ||
  (f.firstRespondedAt ?? -Infinity) >= from ||
  (f.resolvedAt ?? -Infinity) >= from ||
  (f.csatAt ?? -Infinity) >= from;

export const keepAt = (f: { at: number }, from: number) => f.at >= from;
export const keepMember = (f: MemberFact, from: number) => f.joinedAt >= from;

/** Puts a row's fact in the state under `id`, or drops it: a deleted row (null), no fact, or one not kept. */
export type PutFact = (state: WallboardState, id: number, row: Row | null) => void;

function kept<F>(
  map: (s: WallboardState) => Map<number, F>,
  fact: (d: Row) => F | null,
  keep: (f: F, from: number) => boolean
): PutFact {
  return (state, id, row) => {
    const f = row && fact(row);
    if (f && keep(f, state.bounds.yesterdayStart)) map(state).set(id, f);
    else map(state).delete(id);
  };
}

/** The facts kept by row id, by change_log topic (agents and thresholds have rules of their own). */
export const KEPT_FACTS = {
  order: kept((s) => s.orders, orderFact, keepOrder),
  ticket: kept((s) => s.tickets, ticketFact, keepTicket),
  loyalty_entry: kept((s) => s.ledger, ledgerFact, keepAt),
  loyalty_account: kept((s) => s.members, memberFact, keepMember),
  loyalty_tier_change: kept((s) => s.tierChanges, tierChangeFact, keepAt),
  ticket_status_change: kept((s) => s.ticketStatusChanges, ticketStatusChangeFact, keepAt),
  agent_status_change: kept((s) => s.agentStatusChanges, agentStatusChangeFact, keepAt)
} satisfies Record<string, PutFact>;

export type KeptTopic = keyof typeof KEPT_FACTS;

/** Every fact the wallboard holds; replaced whole by a reconcile. */
export class WallboardState {
  orders = new Map<number, OrderFact>();
  tickets = new Map<number, TicketFact>();
  ledger = new Map<number, LedgerFact>();
  members = new Map<number, MemberFact>();
  tierChanges = new Map<number, TierChangeFact>();
  agents = new Map<number, AgentFact>();
  ticketStatusChanges = new Map<number, StatusChangeFact<TicketStatus>>();
  agentStatusChanges = new Map<number, StatusChangeFact<AgentStatus>>();
  thresholds = new Map<MetricKey, ThresholdFact>();
  constructor(
    readonly timezone: string,
    readonly bounds: DayBounds
  ) {}
}
