import type { Db } from '../../data/db.js';
import { OPEN_WORK } from '../sql.js';
import {
  KEPT_FACTS,
  WallboardState,
  agentFact,
  ms,
  thresholdFact,
  type DayBounds,
  type KeptTopic
} from './facts.js';

type Json = { d: Record<string, unknown> };

/** The store's day around `now`, and the one before it (Postgres does the time-zone arithmetic). */
export async function loadDayBounds(db: Db, timezone: string, now: number): Promise<DayBounds> {
  const [row] = await db.query<{
    day: string;
    yesterday_start: Date;
    today_start: Date;
    tomorrow_start: Date;
  }>(
    `SELECT d::text AS day,
            ((d - 1)::timestamp AT TIME ZONE $2) AS yesterday_start,
            (d::timestamp AT TIME ZONE $2) AS today_start,
            ((d + 1)::timestamp AT TIME ZONE $2) AS tomorrow_start
       FROM (SELECT ($1::timestamptz AT TIME ZONE $2)::date AS d) x`,
    [new Date(now), timezone]
  );
  return {
    day: row.day,
    yesterdayStart: ms(row.yesterday_start)!,
    todayStart: ms(row.today_start)!,
    tomorrowStart: ms(row.tomorrow_start)!
  };
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
   WHERE ${OPEN_WORK} OR created_at >= $1 OR first_responded_at >= $1 OR resolved_at >= $1 OR csat_at >= $1`;
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

/** The rows of each fact kept by id, since yesterday's start ($1). */
const KEPT_QUERIES: [KeptTopic, string][] = [
  ['order', ORDERS],
  ['ticket', TICKETS],
  ['loyalty_entry', LEDGER],
  ['loyalty_account', MEMBERS],
  ['loyalty_tier_change', TIER_CHANGES],
  ['ticket_status_change', TICKET_STATUS_CHANGES],
  ['agent_status_change', AGENT_STATUS_CHANGES]
];

/** A row the wallboard cannot read (a value the database allows but no number can hold, such as a 'NaN' total). */
export type UnreadableRow = (topic: string, id: number, err: unknown) => void;

/**
 * Everything the wallboard needs, recomputed from SQL: the start of the day and the periodic
 * reconcile. A row it cannot read is left out and reported to `unreadable`: one such row must not
 * keep the wallboard, or the server that starts it, from running.
 */
export async function loadWallboardState(
  db: Db,
  timezone: string,
  now: number,
  unreadable: UnreadableRow = () => undefined
): Promise<WallboardState> {
  const bounds = await loadDayBounds(db, timezone, now);
  const from = new Date(bounds.yesterdayStart);
  const [kept, agents, thresholds] = await Promise.all([
    Promise.all(KEPT_QUERIES.map(([, sql]) => db.query<Json>(sql, [from]))),
    db.query<Json>(AGENTS),
    db.query<Json>(THRESHOLDS)
  ]);
  const state = new WallboardState(timezone, bounds);
  // Through the same keep tests as a change (the queries select the rows those tests keep).
  const read = (topic: string, d: Json['d'], apply: () => void) => {
    try {
      apply();
    } catch (err) {
      unreadable(topic, Number(d.id), err);
    }
  };
  KEPT_QUERIES.forEach(([topic], i) => {
    for (const { d } of kept[i]) read(topic, d, () => KEPT_FACTS[topic](state, Number(d.id), d));
  });
  for (const { d } of agents) {
    read('user', d, () => {
      const f = agentFact(d);
      if (f) state.agents.set(f.id, f);
    });
  }
  for (const { d } of thresholds) {
    read('wallboard_threshold', d, () => {
      const f = thresholdFact(d);
      state.thresholds.set(f.metric, f);
    });
  }
  return state;
}
