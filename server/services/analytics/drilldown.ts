import type { z } from 'zod';
import type {
  CustomersDrill,
  CustomersDrillQuery,
  DrillCustomer,
  DrillOrder,
  DrillTicket,
  OrdersDrill,
  OrdersDrillQuery,
  ResolvedRange,
  TicketsDrill,
  TicketsDrillQuery
} from '#shared/schemas/analytics.js';
import { formatHundredths, toHundredths } from '#shared/rules/money.js';
import { activitySql } from './activity.js';
import { Params } from '../sql.js';
import type { Db } from '../../data/db.js';
import { instantsOf } from './range.js';
import { scoredSql } from './rfm.js';
import { COUNTED } from '../sql.js';

// The rows behind a number: each list uses the report's own definition, so its totals are the
// number that was clicked. Paged for the screen; CSV exports take every row (up to EXPORT_LIMIT).

export const EXPORT_LIMIT = 100_000;
const iso = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString());

interface Paging {
  page: number;
  pageSize: number;
  /** Every row (an export) instead of one page. */
  all?: boolean;
}
const limitOffset = (paging: Paging, params: Params) =>
  paging.all
    ? `LIMIT ${EXPORT_LIMIT}`
    : `LIMIT ${params.p(paging.pageSize)} OFFSET ${params.p((paging.page - 1) * paging.pageSize)}`;
const pageCount = (total: number, pageSize: number) => Math.max(1, Math.ceil(total / pageSize));

/** Sales in the range; with a product or category, the orders containing it and their lines of it. */
export async function ordersDrill(
  db: Db,
  range: ResolvedRange,
  q: Pick<z.output<typeof OrdersDrillQuery>, 'productId' | 'categoryId'> & Paging
): Promise<OrdersDrill> {
  const { start, end } = await instantsOf(db, range.from, range.to, range.timezone);
  const params = new Params();
  const inRange = `o.order_date >= ${params.p(start)} AND o.order_date < ${params.p(end)} AND o.${COUNTED}`;
  let lines: string;
  if (q.productId || q.categoryId) {
    const which = q.productId
      ? `i.product_id = ${params.p(q.productId)}`
      : `i.product_id IN (SELECT id FROM products WHERE category_id = ${params.p(q.categoryId)})`;
    lines = `SELECT o.id, o.order_date, o.customer_id, o.status, o.channel, o.total, l.line_revenue
               FROM (SELECT i.order_id, sum(i.quantity * i.unit_price) AS line_revenue FROM order_items i WHERE ${which} GROUP BY i.order_id) l
               JOIN orders o ON o.id = l.order_id
              WHERE ${inRange}`;
  } else {
    lines = `SELECT o.id, o.order_date, o.customer_id, o.status, o.channel, o.total, o.total AS line_revenue FROM orders o WHERE ${inRange}`;
  }
  const [totals] = await db.query<{ orders: number; revenue: string }>(
    `SELECT count(*)::int AS orders, coalesce(sum(line_revenue), 0)::text AS revenue FROM (${lines}) x`,
    params.values
  );
  const rows = await db.query<{
    id: number;
    order_date: Date;
    customer_id: number;
    customer_name: string;
    status: DrillOrder['status'];
    channel: DrillOrder['channel'];
    total: string;
    line_revenue: string;
  }>(
    `SELECT x.id, x.order_date, x.customer_id, btrim(c.first_name || ' ' || c.last_name) AS customer_name, x.status, x.channel,
            x.total::text AS total, x.line_revenue::text AS line_revenue
       FROM (${lines}) x JOIN customers c ON c.id = x.customer_id
      ORDER BY x.order_date DESC, x.id DESC ${limitOffset(q, params)}`,
    params.values
  );
  return {
    range,
    page: q.page,
    pageSize: q.pageSize,
    pageCount: pageCount(totals.orders, q.pageSize),
    totals: { orders: totals.orders, revenue: formatHundredths(toHundredths(totals.revenue)) },
    orders: rows.map((r) => ({
      id: r.id,
      orderDate: iso(r.order_date)!,
      customerId: r.customer_id,
      customerName: r.customer_name,
      status: r.status,
      channel: r.channel,
      total: formatHundredths(toHundredths(r.total)),
      lineRevenue: formatHundredths(toHundredths(r.line_revenue))
    }))
  };
}

type CustomersQuery = Pick<z.output<typeof CustomersDrillQuery>, 'kind' | 'cohort' | 'month' | 'segment'> &
  Paging;

/** Customers behind a customer number: new, returning, active in the range; a cohort cell; an RFM segment. */
export async function customersDrill(
  db: Db,
  range: ResolvedRange,
  q: CustomersQuery
): Promise<CustomersDrill> {
  const params = new Params();
  let sql: string;
  if (q.kind === 'cohort') {
    sql = `WITH base AS (
             SELECT customer_id, orders, (revenue * 100)::bigint AS cents, last_order_at, NULL::int AS r, NULL::int AS f, NULL::int AS m
               FROM customer_monthly WHERE month = ${params.p(`${q.month}-01`)}::date AND cohort = ${params.p(`${q.cohort}-01`)}::date)`;
  } else if (q.kind === 'segment') {
    const { sql: activity } = await activitySql(db, range, params);
    sql = `${scoredSql(activity)}, base AS (
             SELECT customer_id, orders, cents, last_order_at, r, f, m FROM segmented WHERE segment = ${params.p(q.segment)})`;
  } else {
    const { sql: activity, start, end } = await activitySql(db, range, params);
    const where =
      q.kind === 'new'
        ? `s.first_order_at >= ${params.p(start)} AND s.first_order_at < ${params.p(end)}`
        : q.kind === 'returning'
          ? `s.first_order_at < ${params.p(start)}`
          : 'true';
    sql = `WITH ${activity}, base AS (
             SELECT a.customer_id, a.orders, a.cents, a.last_order_at, NULL::int AS r, NULL::int AS f, NULL::int AS m
               FROM activity a JOIN customer_order_stats s ON s.customer_id = a.customer_id WHERE ${where})`;
  }
  // One pass: the page, and the totals of every row (window aggregates run before LIMIT).
  const rows = await db.query<{
    customer_id: number;
    orders: number;
    cents: string;
    last_order_at: Date | null;
    r: number | null;
    f: number | null;
    m: number | null;
    total_customers: number;
    total_orders: number;
    total_cents: string;
  }>(
    `${sql}
     SELECT b.customer_id, b.orders, b.cents::text AS cents, b.last_order_at, b.r, b.f, b.m,
            count(*) OVER ()::int AS total_customers, sum(b.orders) OVER ()::int AS total_orders, sum(b.cents) OVER ()::text AS total_cents
       FROM base b
      ORDER BY b.cents DESC, b.customer_id ${limitOffset(q, params)}`,
    params.values
  );
  let totals = rows[0]
    ? { customers: rows[0].total_customers, orders: rows[0].total_orders, cents: rows[0].total_cents }
    : null;
  if (!totals) {
    [totals] = await db.query<{ customers: number; orders: number; cents: string }>(
      `${sql} SELECT count(*)::int AS customers, coalesce(sum(orders), 0)::int AS orders, coalesce(sum(cents), 0)::text AS cents FROM base`,
      params.values.slice(0, params.values.length - (q.all ? 0 : 2))
    );
  }
  const people = new Map(
    (
      await db.query<{ id: number; name: string; email: string; first_order_at: Date | null }>(
        `SELECT c.id, btrim(c.first_name || ' ' || c.last_name) AS name, c.email, s.first_order_at
           FROM customers c LEFT JOIN customer_order_stats s ON s.customer_id = c.id WHERE c.id = ANY($1::int[])`,
        [rows.map((r) => r.customer_id)]
      )
    ).map((p) => [p.id, p])
  );
  return {
    range,
    page: q.page,
    pageSize: q.pageSize,
    pageCount: pageCount(totals.customers, q.pageSize),
    totals: {
      customers: totals.customers,
      orders: totals.orders,
      revenue: formatHundredths(Number(totals.cents))
    },
    customers: rows.map((r): DrillCustomer => ({
      id: r.customer_id,
      name: people.get(r.customer_id)?.name ?? '',
      email: people.get(r.customer_id)?.email ?? '',
      firstOrderAt: iso(people.get(r.customer_id)?.first_order_at ?? null),
      orders: r.orders,
      revenue: formatHundredths(Number(r.cents)),
      lastOrderAt: iso(r.last_order_at),
      ...(r.r !== null ? { rfm: { r: r.r, f: r.f!, m: r.m! } } : {})
    }))
  };
}

const TICKET_MOMENT = {
  created: 'created_at',
  first_responded: 'first_responded_at',
  resolved: 'resolved_at',
  csat: 'csat_at'
} as const;
const TICKET_DUE = { first_responded: 'first_response_due_at', resolved: 'resolution_due_at' } as const;

/** Tickets whose creation, first response, resolution or CSAT answer falls in the range. */
export async function ticketsDrill(
  db: Db,
  range: ResolvedRange,
  q: Pick<z.output<typeof TicketsDrillQuery>, 'kind' | 'sla'> & Paging
): Promise<TicketsDrill> {
  const { start, end } = await instantsOf(db, range.from, range.to, range.timezone);
  const params = new Params();
  const moment = TICKET_MOMENT[q.kind];
  const where = [`t.${moment} >= ${params.p(start)}`, `t.${moment} < ${params.p(end)}`];
  if (q.sla && (q.kind === 'first_responded' || q.kind === 'resolved')) {
    const due = TICKET_DUE[q.kind];
    where.push(q.sla === 'met' ? `t.${moment} <= t.${due}` : `t.${moment} > t.${due}`);
  }
  const filter = `FROM tickets t WHERE ${where.join(' AND ')}`;
  const [totals] = await db.query<{ tickets: number; csat: string | null }>(
    `SELECT count(*)::int AS tickets, round(avg(t.csat_score), 2)::text AS csat ${filter}`,
    params.values
  );
  const rows = await db.query<{
    id: number;
    subject: string;
    status: DrillTicket['status'];
    priority: DrillTicket['priority'];
    team_id: number;
    assignee_id: number | null;
    created_at: Date;
    first_responded_at: Date | null;
    resolved_at: Date | null;
    csat_score: number | null;
    first_response_seconds: number | null;
    resolution_seconds: number | null;
  }>(
    `SELECT t.id, t.subject, t.status, t.priority, t.team_id, t.assignee_id, t.created_at, t.first_responded_at, t.resolved_at, t.csat_score,
            round(extract(epoch FROM t.first_responded_at - t.created_at))::int AS first_response_seconds,
            round(extract(epoch FROM t.resolved_at - t.created_at))::int AS resolution_seconds
       ${filter}
      ORDER BY t.${moment} DESC, t.id DESC ${limitOffset(q, params)}`,
    params.values
  );
  return {
    range,
    page: q.page,
    pageSize: q.pageSize,
    pageCount: pageCount(totals.tickets, q.pageSize),
    totals: {
      tickets: totals.tickets,
      csatAverage: q.kind === 'csat' && totals.csat !== null ? Number(totals.csat) : null
    },
    tickets: rows.map((r) => ({
      id: r.id,
      subject: r.subject,
      status: r.status,
      priority: r.priority,
      teamId: r.team_id,
      assigneeId: r.assignee_id,
      createdAt: iso(r.created_at)!,
      firstRespondedAt: iso(r.first_responded_at),
      resolvedAt: iso(r.resolved_at),
      firstResponseSeconds: r.first_response_seconds,
      resolutionSeconds: r.resolution_seconds,
      csatScore: r.csat_score
    }))
  };
}
