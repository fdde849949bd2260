import { describe, expect, it } from 'vitest';
import type { DrillCustomer, DrillOrder, DrillTicket } from '$shared/schemas/analytics.js';
import { customerColumns, orderColumns, TICKET_COLUMNS, type DrillColumn } from './drill-columns.js';
import { drillOrders } from './drill.js';

const headers = <Row>(columns: DrillColumn<Row>[]) => columns.map((c) => c.header);
const column = <Row>(columns: DrillColumn<Row>[], header: string) =>
  columns.find((c) => c.header === header)!;

const order: DrillOrder = {
  id: 42,
  orderDate: '2026-11-20T10:00:00Z',
  customerId: 7,
  customerName: 'Avery Patel',
  status: 'shipped',
  channel: 'web',
  total: '129.90',
  lineRevenue: '39.95'
};
const customer: DrillCustomer = {
  id: 7,
  name: 'Avery Patel',
  email: 'avery@example.com',
  firstOrderAt: null,
  lastOrderAt: null,
  orders: 3,
  revenue: '1234.50'
};
const ticket: DrillTicket = {
  id: 1905,
  subject: 'Voucher code not working',
  status: 'resolved',
  priority: 'low',
  teamId: 1,
  assigneeId: null,
  createdAt: '2026-12-03T13:12:00Z',
  firstRespondedAt: null,
  resolvedAt: null,
  firstResponseSeconds: null,
  resolutionSeconds: 3600,
  csatScore: null
};

describe('drill-down columns', () => {
  it('show the product or category lines only when the drill is about them', () => {
    expect(headers(orderColumns({ lines: false }))).toEqual([
      'Order',
      'Date',
      'Customer',
      'Status',
      'Channel',
      'Total'
    ]);
    const withLines = orderColumns({ lines: true });
    expect(headers(withLines)).toEqual(['Order', 'Date', 'Customer', 'Status', 'Channel', 'Lines', 'Total']);
    expect(column(withLines, 'Lines').value(order)).toBe('$39.95');
    expect(column(withLines, 'Total').value(order)).toBe('$129.90');
    expect(column(withLines, 'Status').value(order)).toEqual({ status: 'order', value: 'shipped' });
  });

  it('show RFM scores only in segment drills, and a dash where a customer has none', () => {
    expect(headers(customerColumns({ rfm: false }))).not.toContain('R·F·M');
    const rfm = column(customerColumns({ rfm: true }), 'R·F·M');
    expect(rfm.value({ ...customer, rfm: { r: 4, f: 5, m: 5 } })).toBe('4·5·5');
    expect(rfm.value(customer)).toBe('–');
    expect(column(customerColumns({ rfm: false }), 'First order').value(customer)).toBe('–');
    expect(column(customerColumns({ rfm: false }), 'Customer').detail?.(customer)).toEqual([
      'avery@example.com'
    ]);
  });

  it('link a ticket to its screen, with its id and priority under the subject', () => {
    const subject = column(TICKET_COLUMNS, 'Ticket');
    expect(subject.link?.(ticket)).toBe('/console/tickets/1905');
    expect(subject.detail?.(ticket)).toEqual(['#1905 · ', { status: 'priority', value: 'low' }]);
    expect(column(TICKET_COLUMNS, 'Resolved in').value(ticket)).toBe('1h 00m');
    expect(column(TICKET_COLUMNS, 'CSAT').value(ticket)).toBe('–');
    expect(column(TICKET_COLUMNS, 'CSAT').value({ ...ticket, csatScore: 4 })).toBe('4');
  });

  it('line numbers up at the end and everything else at the start', () => {
    const ends = (columns: DrillColumn<never>[]) =>
      columns.filter((c) => c.align === 'end').map((c) => c.header);
    expect(ends(orderColumns({ lines: true }))).toEqual(['Lines', 'Total']);
    expect(ends(customerColumns({ rfm: true }))).toEqual(['R·F·M', 'Orders', 'Revenue']);
    expect(ends(TICKET_COLUMNS)).toEqual(['1st reply', 'Resolved in', 'CSAT']);
  });
});

describe('drills', () => {
  it('ask for the span with the filter on top', () => {
    expect(
      drillOrders('Eco Water Bottle', { from: '2026-11-05', to: '2026-12-04' }, 'Orders with this product', {
        productId: '19'
      })
    ).toEqual({
      kind: 'orders',
      title: 'Eco Water Bottle',
      subtitle: 'Orders with this product',
      query: { from: '2026-11-05', to: '2026-12-04', productId: '19' }
    });
  });
});
