import type { Db } from '../../services/analytics/db.js';
import {
  WallboardState,
  agentFact,
  keepOrder,
  ledgerFact,
  memberFact,
  ms,
  orderFact,
  thresholdFact,
  ticketFact,
  tierChangeFact,
  ticketStatusChangeFact,
  agentStatusChangeFact,
  type DayBounds
} from './facts.js';

type Json = { d: Record<string, unknown> };

/** The store's day around `now`, and the one before it (Postgres does the time-zone arithmetic). */
export async function loadDayBounds(db: Db, timezone: string, now: number): Promise<DayBounds> {
  const [row] = await db.query<{ day: string; yesterday_start: Date; today_start: Date; tomorrow_start: Date }>(
    `SELECT d::text AS day,
            ((d - 1)::timestamp AT TIME ZONE $2) AS yesterday_start,
            (d::timestamp AT TIME ZONE $2) AS today_start,
            ((d + 1)::timestamp AT TIME ZONE $2) AS tomorrow_start
       FROM (SELECT ($1::timestamptz AT TIME ZONE $2)::date AS d) x`,
    [new Date(now), timezone]
  );
  return { day: row.day, yesterdayStart: ms(row.yesterday_start)!, todayStart: ms(row.today_start)!, tomorrowStart: ms(row.tomorrow_start)! };
}

// The rows each fact is made from, as JSON built the way change_log.data is (to_jsonb formatting),
// restricted to what the wallboard remembers (see the keep* tests in facts.ts).
const ORDER_JSON = `jsonb_build_object('id', id, 'order_date', order_date, 'total', total, 'status', status, 'refunded_at', refunded_at) AS d`;
// Two disjoint index-only scans (an OR would need the heap).
const ORDERS = `
  SELECT ${ORDER_JSON} FROM orders WHERE order_date >= $1
  UNION ALL
  SELECT ${ORDER_JSON} FROM orders WHERE refunded_at >= $1 AND order_date < $1`;
const TICKETS = `
  SELECT jsonb_build_object('id', id, 'status', status, 'priority', priority, 'assignee_id', assignee_id, 'assigned_at', assigned_at,
                            'created_at', created_at, 'first_response_due_at', first_response_due_at,
                            'resolution_due_at', resolution_due_at, 'first_responded_at', first_responded_at,
                            'resolved_at', resolved_at, 'csat_score', csat_score, 'csat_at', csat_at) AS d
    FROM tickets
   WHERE status IN ('new', 'open', 'pending') OR created_at >= $1 OR first_responded_at >= $1 OR resolved_at >= $1 OR csat_at >= $1`;
const LEDGER = `
  SELECT jsonb_build_object('id', id, 'created_at', created_at, 'kind', kind, 'points', points) AS d
    FROM loyalty_ledger WHERE created_at >= $1 AND kind IN ('earn', 'redeem')`;
const MEMBERS = `SELECT jsonb_build_object('id', id, 'joined_at', joined_at) AS d FROM loyalty_accounts WHERE joined_at >= $1`;
const TIER_CHANGES = `
  SELECT jsonb_build_object('id', id, 'changed_at', changed_at, 'from_tier', from_tier, 'to_tier', to_tier) AS d
    FROM loyalty_tier_changes WHERE changed_at >= $1`;
const TICKET_STATUS_CHANGES = `
  SELECT jsonb_build_object('id', id, 'ticket_id', ticket_id, 'from_status', from_status, 'to_status', to_status, 'changed_at', changed_at) AS d
    FROM ticket_status_changes WHERE changed_at >= $1`;
const AGENT_STATUS_CHANGES = `
  SELECT jsonb_build_object('id', id, 'user_id', user_id, 'from_status', from_status, 'to_status', to_status, 'changed_at', changed_at) AS d
    FROM agent_status_changes WHERE changed_at >= $1`;
const AGENTS = `
  SELECT jsonb_build_object('id', id, 'name', name, 'role', role, 'team_id', team_id, 'active', active,
                            'status', status, 'capacity', capacity) AS d
    FROM users WHERE role = 'agent' AND active`;
const THRESHOLDS = `SELECT jsonb_build_object('metric', metric, 'comparison', comparison, 'value', value) AS d FROM wallboard_thresholds`;

/** Everything the wallboard needs, recomputed from SQL: the start of the day and the periodic reconcile. */
export async function loadWallboardState(db: Db, timezone: string, now: number): Promise<WallboardState> {
  const bounds = await loadDayBounds(db, timezone, now);
  const from = new Date(bounds.yesterdayStart);
  const [orders, tickets, ledger, members, tierChanges, ticketStatusChanges, agentStatusChanges, agents, thresholds] = await Promise.all(
    [ORDERS, TICKETS, LEDGER, MEMBERS, TIER_CHANGES, TICKET_STATUS_CHANGES, AGENT_STATUS_CHANGES].map((sql) => db.query<Json>(sql, [from])).concat([db.query<Json>(AGENTS), db.query<Json>(THRESHOLDS)])
  );
  const state = new WallboardState(timezone, bounds);
  for (const { d } of orders) {
    const f = orderFact(d);
    if (keepOrder(f, bounds.yesterdayStart)) state.orders.set(f.id, f);
  }
  for (const { d } of tickets) state.tickets.set(Number(d.id), ticketFact(d));
  for (const { d } of ledger) {
    const f = ledgerFact(d);
    if (f) state.ledger.set(f.id, f);
  }
  for (const { d } of members) state.members.set(Number(d.id), memberFact(d));
  for (const { d } of tierChanges) state.tierChanges.set(Number(d.id), tierChangeFact(d));
  for (const { d } of ticketStatusChanges) state.ticketStatusChanges.set(Number(d.id), ticketStatusChangeFact(d));
  for (const { d } of agentStatusChanges) state.agentStatusChanges.set(Number(d.id), agentStatusChangeFact(d));
  for (const { d } of agents) {
    const f = agentFact(d);
    if (f) state.agents.set(f.id, f);
  }
  for (const { d } of thresholds) {
    const f = thresholdFact(d);
    state.thresholds.set(f.metric, f);
  }
  return state;
}
