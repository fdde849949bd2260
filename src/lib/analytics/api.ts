import { api, queryOf, unwrap } from '$lib/api.js';
import type { ClientResponse } from 'hono/client';
import { authed } from '$lib/session.svelte.js';
import type {
  Bucket,
  CohortReport,
  CustomersDrill,
  OrdersDrill,
  RfmReport,
  SalesReport,
  SupportReport,
  TicketsDrill,
  TopCategoriesReport,
  TopProductsReport
} from '$shared/schemas/analytics.js';

// The analytics reports and their drill-downs, through the typed client.

export interface RangeParams {
  from: string;
  to: string;
}

export interface SeriesParams extends RangeParams {
  bucket: Bucket;
}

/** Every report and list answers `?format=csv` with the same query. */
export type AnalyticsEndpoint =
  | 'sales'
  | 'top-products'
  | 'top-categories'
  | 'cohorts'
  | 'rfm'
  | 'support'
  | 'orders'
  | 'customers'
  | 'tickets';

/**
 * Each report route answers JSON or, with `?format=csv`, a CSV body, so its client type is a union
 * of both; these calls never ask for CSV, so the answer is the JSON branch.
 */
function call<T>(request: Promise<ClientResponse<unknown, number, string>>): Promise<T> {
  return authed(unwrap(request as Promise<ClientResponse<T, number, 'json'>>)) as Promise<T>;
}

const init = (signal?: AbortSignal) => ({ init: { signal } });
const a = api.api.analytics;

export const analyticsApi = {
  sales: (q: SeriesParams, signal?: AbortSignal): Promise<SalesReport> =>
    call(a.sales.$get({ query: queryOf(q) }, init(signal))),
  topProducts: (q: RangeParams & { limit: number }, signal?: AbortSignal): Promise<TopProductsReport> =>
    call(a['top-products'].$get({ query: queryOf(q) }, init(signal))),
  topCategories: (q: RangeParams & { limit: number }, signal?: AbortSignal): Promise<TopCategoriesReport> =>
    call(a['top-categories'].$get({ query: queryOf(q) }, init(signal))),
  cohorts: (q: RangeParams, signal?: AbortSignal): Promise<CohortReport> =>
    call(a.cohorts.$get({ query: queryOf(q) }, init(signal))),
  rfm: (q: RangeParams, signal?: AbortSignal): Promise<RfmReport> =>
    call(a.rfm.$get({ query: queryOf(q) }, init(signal))),
  support: (q: SeriesParams, signal?: AbortSignal): Promise<SupportReport> =>
    call(a.support.$get({ query: queryOf(q) }, init(signal))),
  orders: (q: Record<string, string>, signal?: AbortSignal): Promise<OrdersDrill> =>
    call(a.orders.$get({ query: q as { from?: string } }, init(signal))),
  customers: (q: Record<string, string>, signal?: AbortSignal): Promise<CustomersDrill> =>
    call(a.customers.$get({ query: q as { kind: 'new' } }, init(signal))),
  tickets: (q: Record<string, string>, signal?: AbortSignal): Promise<TicketsDrill> =>
    call(a.tickets.$get({ query: q as { kind: 'created' } }, init(signal)))
};

/** The download address of a report or list as CSV (same session cookie, same query). */
export function csvUrl(endpoint: AnalyticsEndpoint, params: object): string {
  const query = new URLSearchParams({ ...queryOf(params), format: 'csv' });
  query.delete('page');
  query.delete('pageSize');
  return `/api/analytics/${endpoint}?${query}`;
}
