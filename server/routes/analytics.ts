import type { Context } from 'hono';
import { Hono } from 'hono';
import {
  CustomersDrillQuery,
  OrdersDrillQuery,
  RangeQuery,
  SeriesQuery,
  TicketsDrillQuery,
  TopQuery
} from '#shared/schemas/analytics.js';
import { requireRole } from '../auth/middleware.js';
import type { AppDeps } from '../deps.js';
import type { AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import {
  cohortReport,
  customersDrill,
  ensureFresh,
  ordersDrill,
  resolveRange,
  resolveSeries,
  rfmReport,
  salesReport,
  supportReport,
  ticketsDrill,
  topCategories,
  topProducts
} from '../services/analytics/index.js';
import { reportSession } from '../data/db.js';
import { csvFileName, toCsv } from '../services/analytics/csv.js';

type Columns<T> = { header: string; value: (row: T) => unknown }[];
const col = <T>(header: string, value: (row: T) => unknown) => ({ header, value });

/** JSON, or with `?format=csv` a download of the same rows. */
function answer<B extends object, T>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any route's context
  c: Context<any>,
  format: 'json' | 'csv',
  file: string,
  body: B,
  rows: () => T[],
  columns: () => Columns<T>
) {
  if (format === 'json') return c.json(body);
  c.header('Content-Type', 'text/csv; charset=utf-8');
  c.header('Content-Disposition', `attachment; filename="${file}"`);
  return c.body(toCsv(columns(), rows()));
}

/**
 * Sales and support analytics for managers. Every report takes `from`/`to` (the store's dates,
 * at most two years) and answers `?format=csv`; the drill-down lists return the rows behind a number.
 */
export const analyticsRoutes = ({ db, config }: AppDeps) => {
  const tz = config.STORE_TIMEZONE;
  const fresh = () => ensureFresh(db, tz);
  return new Hono<AppEnv>()
    .use(requireRole('manager', 'admin'))
    .get('/sales', validate('query', SeriesQuery), async (c) => {
      const q = c.req.valid('query');
      await fresh();
      const report = await reportSession(db, (t) => salesReport(t, resolveSeries(q, tz)));
      return answer(
        c,
        q.format,
        csvFileName('sales', report.range),
        report,
        () => report.points,
        () => [
          col('bucket', (p) => p.bucket),
          col('from', (p) => p.from),
          col('to', (p) => p.to),
          col('orders', (p) => p.orders),
          col('revenue', (p) => p.revenue),
          col('aov', (p) => p.aov),
          col('new_customers', (p) => p.newCustomers),
          col('returning_customers', (p) => p.returningCustomers)
        ]
      );
    })
    .get('/top-products', validate('query', TopQuery), async (c) => {
      const q = c.req.valid('query');
      await fresh();
      const report = await reportSession(db, (t) => topProducts(t, resolveRange(q, tz), q.limit));
      return answer(
        c,
        q.format,
        csvFileName('top-products', report.range),
        report,
        () => report.products.map((p, i) => ({ ...p, rank: i + 1 })),
        () => [
          col('rank', (p) => p.rank),
          col('product_id', (p) => p.productId),
          col('sku', (p) => p.sku),
          col('name', (p) => p.name),
          col('category', (p) => p.category),
          col('units', (p) => p.units),
          col('orders', (p) => p.orders),
          col('revenue', (p) => p.revenue),
          col('share_percent', (p) => p.share)
        ]
      );
    })
    .get('/top-categories', validate('query', TopQuery), async (c) => {
      const q = c.req.valid('query');
      await fresh();
      const report = await reportSession(db, (t) => topCategories(t, resolveRange(q, tz), q.limit));
      return answer(
        c,
        q.format,
        csvFileName('top-categories', report.range),
        report,
        () => report.categories.map((p, i) => ({ ...p, rank: i + 1 })),
        () => [
          col('rank', (p) => p.rank),
          col('category_id', (p) => p.categoryId),
          col('category', (p) => p.category),
          col('products', (p) => p.products),
          col('units', (p) => p.units),
          col('revenue', (p) => p.revenue),
          col('share_percent', (p) => p.share)
        ]
      );
    })
    .get('/cohorts', validate('query', RangeQuery), async (c) => {
      const q = c.req.valid('query');
      await fresh();
      const report = await reportSession(db, (t) => cohortReport(t, resolveRange(q, tz)));
      const offsets = report.range.months.map((_, i) => i);
      return answer(
        c,
        q.format,
        csvFileName('cohorts', report.range),
        report,
        () => report.cohorts,
        () => [
          col('cohort', (r) => r.cohort),
          col('customers', (r) => r.customers),
          ...offsets.map((k) =>
            col(`month_${k}_percent`, (r: (typeof report.cohorts)[number]) => r.retention[k]?.percent ?? null)
          )
        ]
      );
    })
    .get('/rfm', validate('query', RangeQuery), async (c) => {
      const q = c.req.valid('query');
      await fresh();
      const report = await reportSession(db, (t) => rfmReport(t, resolveRange(q, tz)));
      return answer(
        c,
        q.format,
        csvFileName('rfm', report.range),
        report,
        () => report.segments,
        () => [
          col('segment', (s) => s.segment),
          col('label', (s) => s.label),
          col('customers', (s) => s.customers),
          col('orders', (s) => s.orders),
          col('revenue', (s) => s.revenue),
          col('average_recency_days', (s) => s.averageRecencyDays)
        ]
      );
    })
    .get('/support', validate('query', SeriesQuery), async (c) => {
      const q = c.req.valid('query');
      const report = await reportSession(db, (t) => supportReport(t, resolveSeries(q, tz)));
      return answer(
        c,
        q.format,
        csvFileName('support', report.range),
        report,
        () => report.points,
        () => [
          col('bucket', (p) => p.bucket),
          col('from', (p) => p.from),
          col('to', (p) => p.to),
          col('created', (p) => p.created),
          col('first_response_median_seconds', (p) => p.firstResponseMedianSeconds),
          col('first_response_sla_met', (p) => p.firstResponseSla.met),
          col('first_response_sla_total', (p) => p.firstResponseSla.total),
          col('first_response_sla_percent', (p) => p.firstResponseSla.percent),
          col('resolution_median_seconds', (p) => p.resolutionMedianSeconds),
          col('resolution_sla_met', (p) => p.resolutionSla.met),
          col('resolution_sla_total', (p) => p.resolutionSla.total),
          col('resolution_sla_percent', (p) => p.resolutionSla.percent),
          col('csat_average', (p) => p.csatAverage),
          col('csat_responses', (p) => p.csatResponses)
        ]
      );
    })
    .get('/orders', validate('query', OrdersDrillQuery), async (c) => {
      const q = c.req.valid('query');
      await fresh();
      const list = await reportSession(db, (t) =>
        ordersDrill(t, resolveRange(q, tz), { ...q, all: q.format === 'csv' })
      );
      return answer(
        c,
        q.format,
        csvFileName('orders', list.range),
        list,
        () => list.orders,
        () => [
          col('id', (o) => o.id),
          col('order_date', (o) => o.orderDate),
          col('customer_id', (o) => o.customerId),
          col('customer_name', (o) => o.customerName),
          col('status', (o) => o.status),
          col('channel', (o) => o.channel),
          col('total', (o) => o.total),
          col('line_revenue', (o) => o.lineRevenue)
        ]
      );
    })
    .get('/customers', validate('query', CustomersDrillQuery), async (c) => {
      const q = c.req.valid('query');
      await fresh();
      const list = await reportSession(db, (t) =>
        customersDrill(t, resolveRange(q, tz), { ...q, all: q.format === 'csv' })
      );
      return answer(
        c,
        q.format,
        csvFileName(`customers-${q.kind}`, list.range),
        list,
        () => list.customers,
        () => [
          col('id', (r) => r.id),
          col('name', (r) => r.name),
          col('email', (r) => r.email),
          col('first_order_at', (r) => r.firstOrderAt),
          col('last_order_at', (r) => r.lastOrderAt),
          col('orders', (r) => r.orders),
          col('revenue', (r) => r.revenue),
          col('r', (r) => r.rfm?.r),
          col('f', (r) => r.rfm?.f),
          col('m', (r) => r.rfm?.m)
        ]
      );
    })
    .get('/tickets', validate('query', TicketsDrillQuery), async (c) => {
      const q = c.req.valid('query');
      const list = await reportSession(db, (t) =>
        ticketsDrill(t, resolveRange(q, tz), { ...q, all: q.format === 'csv' })
      );
      return answer(
        c,
        q.format,
        csvFileName(`tickets-${q.kind}`, list.range),
        list,
        () => list.tickets,
        () => [
          col('id', (t) => t.id),
          col('subject', (t) => t.subject),
          col('status', (t) => t.status),
          col('priority', (t) => t.priority),
          col('team_id', (t) => t.teamId),
          col('assignee_id', (t) => t.assigneeId),
          col('created_at', (t) => t.createdAt),
          col('first_responded_at', (t) => t.firstRespondedAt),
          col('resolved_at', (t) => t.resolvedAt),
          col('first_response_seconds', (t) => t.firstResponseSeconds),
          col('resolution_seconds', (t) => t.resolutionSeconds),
          col('csat_score', (t) => t.csatScore)
        ]
      );
    });
};
