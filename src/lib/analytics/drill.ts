import type { BucketSpan } from '$shared/schemas/analytics.js';
import type { DateRange } from './range.js';

/** What a drill-down drawer lists: the rows behind one number, as the server's list endpoints give them. */
export interface Drill {
  kind: 'orders' | 'customers' | 'tickets';
  title: string;
  /** The range or bucket, in words. */
  subtitle: string;
  /** The list endpoint's query: from, to and the filter (productId, kind, cohort, segment, sla...). */
  query: Record<string, string>;
}

/** The days of one chart point, without its label. */
export const spanOf = (point: BucketSpan): DateRange => ({ from: point.from, to: point.to });

/** The orders behind a sales number; `filter` narrows them to a product or category. */
export function drillOrders(
  title: string,
  span: DateRange,
  subtitle: string,
  filter: Record<string, string> = {}
): Drill {
  return { kind: 'orders', title, subtitle, query: { ...span, ...filter } };
}

/** The customers behind a number: `filter.kind` says which (new, returning, cohort, segment). */
export function drillCustomers(
  title: string,
  span: DateRange,
  subtitle: string,
  filter: Record<string, string>
): Drill {
  return { kind: 'customers', title, subtitle, query: { ...span, ...filter } };
}

/** The tickets behind a support number: `filter.kind` says which (created, first_responded, resolved, csat). */
export function drillTickets(
  title: string,
  span: DateRange,
  subtitle: string,
  filter: Record<string, string>
): Drill {
  return { kind: 'tickets', title, subtitle, query: { ...span, ...filter } };
}
