import type { StatusKind, StatusValue } from '$lib/components/status.js';
import { formatCount, formatDateTime, formatDuration, formatMoney } from '$lib/format.js';
import type { DrillCustomer, DrillOrder, DrillTicket } from '$shared/schemas/analytics.js';

/** A status pill in a cell: an order's or ticket's status, a ticket's priority. */
export type DrillStatus = { [K in StatusKind]: { status: K; value: StatusValue[K] } }[StatusKind];

/** What a cell shows: formatted text, or a status pill. */
export type DrillCell = string | DrillStatus;

/**
 * How a cell's text reads: `mono` for ids, `muted` for side facts, `nowrap` for dates,
 * `ellipsis` for names (at most 260px; a headline and its second line end in "…").
 */
export type DrillLook = 'mono' | 'muted' | 'nowrap' | 'ellipsis';

/** One column of a drill-down table. */
export interface DrillColumn<Row> {
  header: string;
  /** Spells out a terse header on hover. */
  headerTitle?: string;
  /** `end` for amounts, counts and durations, so their digits line up. */
  align?: 'start' | 'end';
  value: (row: Row) => DrillCell;
  /** A smaller second line under the value (an e-mail, an id and a pill); the value becomes the headline. */
  detail?: (row: Row) => DrillCell[];
  /** Where the value links to: the row's own screen. */
  link?: (row: Row) => string;
  look?: DrillLook[];
}

const LINES_COLUMN: DrillColumn<DrillOrder> = {
  header: 'Lines',
  align: 'end',
  value: (o) => formatMoney(o.lineRevenue)
};

/** Orders; `lines` adds what the product's or category's lines brought in. */
export function orderColumns({ lines }: { lines: boolean }): DrillColumn<DrillOrder>[] {
  return [
    { header: 'Order', value: (o) => `#${o.id}`, look: ['mono'] },
    { header: 'Date', value: (o) => formatDateTime(o.orderDate), look: ['nowrap'] },
    { header: 'Customer', value: (o) => o.customerName, look: ['ellipsis'] },
    { header: 'Status', value: (o) => ({ status: 'order', value: o.status }) },
    { header: 'Channel', value: (o) => o.channel, look: ['muted'] },
    ...(lines ? [LINES_COLUMN] : []),
    { header: 'Total', align: 'end', value: (o) => formatMoney(o.total) }
  ];
}

const dateOrDash = (iso: string | null) => (iso ? formatDateTime(iso) : '–');

const RFM_COLUMN: DrillColumn<DrillCustomer> = {
  header: 'R·F·M',
  headerTitle: 'Recency, frequency and monetary scores (5 is best)',
  align: 'end',
  value: (c) => (c.rfm ? `${c.rfm.r}·${c.rfm.f}·${c.rfm.m}` : '–'),
  look: ['mono']
};

/** Customers; `rfm` adds their recency, frequency and monetary scores (segment drills). */
export function customerColumns({ rfm }: { rfm: boolean }): DrillColumn<DrillCustomer>[] {
  return [
    { header: 'Customer', value: (c) => c.name, detail: (c) => [c.email], look: ['ellipsis'] },
    { header: 'First order', value: (c) => dateOrDash(c.firstOrderAt), look: ['nowrap', 'muted'] },
    { header: 'Last order', value: (c) => dateOrDash(c.lastOrderAt), look: ['nowrap', 'muted'] },
    ...(rfm ? [RFM_COLUMN] : []),
    { header: 'Orders', align: 'end', value: (c) => formatCount(c.orders) },
    { header: 'Revenue', align: 'end', value: (c) => formatMoney(c.revenue) }
  ];
}

export const TICKET_COLUMNS: DrillColumn<DrillTicket>[] = [
  {
    header: 'Ticket',
    value: (t) => t.subject,
    link: (t) => `/console/tickets/${t.id}`,
    detail: (t) => [`#${t.id} · `, { status: 'priority', value: t.priority }],
    look: ['ellipsis']
  },
  { header: 'Status', value: (t) => ({ status: 'ticket', value: t.status }) },
  { header: 'Created', value: (t) => formatDateTime(t.createdAt), look: ['nowrap', 'muted'] },
  { header: '1st reply', align: 'end', value: (t) => formatDuration(t.firstResponseSeconds) },
  { header: 'Resolved in', align: 'end', value: (t) => formatDuration(t.resolutionSeconds) },
  { header: 'CSAT', align: 'end', value: (t) => (t.csatScore === null ? '–' : String(t.csatScore)) }
];
