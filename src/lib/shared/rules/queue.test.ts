import { describe, expect, it } from 'vitest';
import type { TicketSummary } from '../schemas/live.js';
import { inQueue, type QueueFilterState } from './queue.js';

const ticket = (t: Partial<TicketSummary>): TicketSummary => ({
  id: 1,
  customerId: 1,
  orderId: null,
  subject: 'Parcel late',
  status: 'open',
  priority: 'normal',
  channel: 'email',
  assigneeId: null,
  teamId: 1,
  tags: [],
  firstResponseDueAt: null,
  resolutionDueAt: null,
  firstRespondedAt: null,
  resolvedAt: null,
  csatScore: null,
  lastMessageAt: '2026-12-01T10:00:00Z',
  flagged: false,
  assignedAt: null,
  version: 1,
  createdAt: '2026-12-01T09:00:00Z',
  updatedAt: '2026-12-01T10:00:00Z',
  ...t
});
const none: QueueFilterState = { status: [], priority: [], channel: [], sla: [], tag: '', q: '' };
const agent = { id: 7, role: 'agent' as const, team: { id: 1 } };

describe('queue membership', () => {
  it('keeps an agent’s unassigned view to their team, and opens open work by default', () => {
    expect(inQueue(ticket({}), { view: 'unassigned', filters: none, user: agent })).toBe(true);
    expect(inQueue(ticket({ teamId: 2 }), { view: 'unassigned', filters: none, user: agent })).toBe(false);
    expect(inQueue(ticket({ status: 'resolved' }), { view: 'team', filters: none, user: agent })).toBe(false);
  });

  it('counts a ticket with no clock running as SLA ok, as the server does', () => {
    const resolved = ticket({ status: 'resolved', resolvedAt: '2026-12-01T11:00:00Z' });
    expect(
      inQueue(resolved, {
        view: 'team',
        filters: { ...none, status: ['resolved'], sla: ['ok'] },
        user: agent
      })
    ).toBe(true);
    expect(
      inQueue(resolved, {
        view: 'team',
        filters: { ...none, status: ['resolved'], sla: ['breached'] },
        user: agent
      })
    ).toBe(false);
  });

  it('decides a text search by number at once, and by name only with the customer', () => {
    const filters = { ...none, q: 'casey' };
    expect(inQueue(ticket({ id: 42 }), { view: 'team', filters: { ...none, q: '#42' }, user: agent })).toBe(
      true
    );
    expect(inQueue(ticket({}), { view: 'team', filters, user: agent })).toBe(true);
    expect(
      inQueue(ticket({}), {
        view: 'team',
        filters,
        user: agent,
        customer: { name: 'Dana Doe', email: 'dana@x.io' }
      })
    ).toBe(false);
  });
});
