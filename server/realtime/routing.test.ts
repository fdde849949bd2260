import { describe, expect, it } from 'vitest';
import type { ChangeRow } from './change-reader.js';
import { route, routeAvailability } from './routing.js';

const row = (r: Partial<ChangeRow>): ChangeRow => ({
  id: 1,
  topic: 'order',
  op: 'insert',
  entityId: 1,
  customerId: null,
  teamId: null,
  data: {},
  old: null,
  createdAt: '2026-12-01T10:00:00.000Z',
  ...r
});

const order = {
  id: 9,
  customer_id: 4,
  order_date: '2026-12-01T10:00:00Z',
  status: 'paid',
  total: '12.50',
  currency: 'USD',
  channel: 'web',
  external_id: null,
  version: 3
};
const ticket = {
  id: 5,
  customer_id: 4,
  subject: 'Where is it?',
  status: 'open',
  priority: 'normal',
  channel: 'email',
  team_id: 2,
  tags: [],
  last_message_at: '2026-12-01T10:00:00Z',
  version: 2,
  created_at: '2026-12-01T09:00:00Z',
  updated_at: '2026-12-01T10:00:00Z'
};

describe('routing a change to the rooms that may see it', () => {
  it('sends an order to the managers, its customer’s watchers and the orders and customers lists, with its version', () => {
    const out = route(row({ id: 41, topic: 'order', data: order, customerId: 4 }), '1:1:');
    expect(out).toMatchObject({
      event: 'order:created',
      rooms: ['role:manager', 'customer:4', 'list:customers', 'list:orders']
    });
    expect(out!.payload).toMatchObject({
      seq: 41,
      horizon: '1:1:',
      data: { id: 9, total: '12.50', version: 3 }
    });
  });

  it('sends a product change to the products list and its page, as product:created or product:updated', () => {
    const product = {
      id: 7,
      sku: 'MUG-001',
      name: 'Mug',
      category_id: null,
      price: '9.50',
      stock: 3,
      active: true,
      version: 2,
      created_at: '2026-12-01T09:00:00Z',
      updated_at: '2026-12-01T10:00:00Z'
    };
    expect(route(row({ topic: 'product', entityId: 7, data: product }), '1:1:')).toMatchObject({
      event: 'product:created',
      rooms: ['list:products', 'product:7'],
      payload: { data: { id: 7, sku: 'MUG-001', price: '9.50', stock: 3, categoryId: null, version: 2 } }
    });
    expect(
      route(row({ topic: 'product', op: 'update', data: product, old: { stock: 4 } }), '1:1:')
    ).toMatchObject({ event: 'product:updated', payload: { old: { stock: 4 } } });
  });

  it('sends a ticket moved between teams to both teams, the managers and its watchers, with the old values', () => {
    const out = route(
      row({
        topic: 'ticket',
        op: 'update',
        entityId: 5,
        teamId: 2,
        data: ticket,
        old: { team_id: 1, version: 1 }
      }),
      '1:1:'
    );
    expect(out!.event).toBe('ticket:updated');
    expect(out!.rooms).toEqual(['role:manager', 'ticket:5', 'team:2', 'team:1']);
    expect(out!.payload).toMatchObject({ old: { teamId: 1, version: 1 } });
  });

  it('sends a message only to the ticket’s current team, and sends no event for an order item', () => {
    const message = {
      id: 3,
      ticket_id: 5,
      author_type: 'agent',
      author_user_id: 1,
      body: 'note',
      internal: true,
      created_at: '2026-12-01T10:00:00Z'
    };
    expect(route(row({ topic: 'ticket_message', data: message, teamId: 2 }), '1:1:')!.rooms).toEqual([
      'role:manager',
      'ticket:5',
      'team:2'
    ]);
    expect(route(row({ topic: 'order_item', data: {} }), '1:1:')).toBeNull();
  });

  it('tells a team and the managers when an agent’s availability changes, not when their name does', () => {
    const agent = {
      id: 7,
      name: 'Ana',
      team_id: 2,
      status: 'busy',
      capacity: 5,
      active: true,
      role: 'agent',
      status_changed_at: '2026-12-01T10:00:00Z'
    };
    expect(
      routeAvailability(row({ topic: 'user', op: 'update', data: agent, old: { status: 'online' } }), '1:1:')!
        .rooms
    ).toEqual(['role:manager', 'team:2']);
    expect(
      routeAvailability(row({ topic: 'user', op: 'update', data: agent, old: { name: 'Anna' } }), '1:1:')
    ).toBeNull();
  });
});

describe('a customer merge', () => {
  it('reaches both customers’ rooms and the managers, with the merged customer as it was', () => {
    const out = route(
      row({
        topic: 'customer_merge',
        entityId: 3,
        data: {
          id: 3,
          survivor_id: 10,
          merged_id: 11,
          merged_by: 2,
          merged_at: '2026-12-01T10:00:00Z',
          moved: { orders: 2, tickets: 1, reviews: 0, reviewsDropped: 0, loyaltyEntries: 3, points: 120 },
          snapshot: { merged: { first_name: 'Ana', last_name: 'Lima', email: 'ana@example.com' } }
        }
      }),
      'h'
    );
    expect(out?.event).toBe('customer:merged');
    expect(out?.rooms.sort()).toEqual(['customer:10', 'customer:11', 'role:manager']);
    expect(out?.payload).toMatchObject({
      survivorId: 10,
      mergedId: 11,
      merge: { id: 3, mergedName: 'Ana Lima', mergedEmail: 'ana@example.com', moved: { points: 120 } }
    });
  });
});

describe('routing the customer 360’s history to the customer’s room only', () => {
  it('sends an order’s status change, a tier change and a profile edit to the watchers of that customer', () => {
    const status = route(
      row({
        topic: 'order_status_change',
        customerId: 4,
        data: {
          id: 3,
          order_id: 9,
          customer_id: 4,
          from_status: 'paid',
          to_status: 'refunded',
          actor_user_id: null,
          changed_at: '2026-12-01T10:00:00Z'
        }
      }),
      '1:1:'
    )!;
    expect(status).toMatchObject({
      event: 'order:status_changed',
      rooms: ['customer:4'],
      payload: { seq: 1, data: { id: 3, orderId: 9, from: 'paid', to: 'refunded', actorUserId: null } }
    });
    const tier = route(
      row({
        topic: 'loyalty_tier_change',
        customerId: 4,
        data: {
          id: 2,
          account_id: 1,
          customer_id: 4,
          entry_id: 8,
          from_tier: 'silver',
          to_tier: 'bronze',
          changed_at: '2026-12-01T10:00:00Z'
        }
      }),
      '1:1:'
    )!;
    expect(tier).toMatchObject({
      event: 'loyalty:tier_changed',
      rooms: ['customer:4'],
      payload: { data: { from: 'silver', to: 'bronze' } }
    });
    const edit = route(
      row({
        topic: 'customer_change',
        customerId: 4,
        data: {
          id: 5,
          customer_id: 4,
          field: 'attributes.plan',
          old: null,
          new: 'plus',
          actor_user_id: 7,
          at: '2026-12-01T10:00:00Z'
        }
      }),
      '1:1:'
    )!;
    expect(edit).toMatchObject({
      event: 'customer:profile_changed',
      rooms: ['customer:4'],
      payload: { data: { field: 'attributes.plan', old: null, new: 'plus', actorUserId: 7 } }
    });
  });

  it('tells an added note from a removed one, and drops a history row without a customer', () => {
    const note = { id: 1, customer_id: 4, author_id: null, body: 'Hi', created_at: '2026-12-01T10:00:00Z' };
    expect(route(row({ topic: 'customer_note', customerId: 4, data: note }), '1:1:')!.event).toBe(
      'customer:note_added'
    );
    expect(
      route(row({ topic: 'customer_note', op: 'delete', customerId: 4, data: note }), '1:1:')!.event
    ).toBe('customer:note_removed');
    expect(route(row({ topic: 'customer_consent', customerId: null, data: {} }), '1:1:')).toBeNull();
  });
});

describe('campaign activity', () => {
  it('goes to its campaign room only, as a cue to recompute the report', () => {
    const out = route(
      row({
        id: 77,
        topic: 'campaign_activity',
        entityId: 12,
        data: { campaign_id: 12, kind: 'orders', count: 3 }
      }),
      '5:5:'
    );
    expect(out).toEqual({
      topic: 'campaign_activity',
      event: 'campaign:activity',
      payload: {
        seq: 77,
        horizon: '5:5:',
        at: '2026-12-01T10:00:00.000Z',
        campaignId: 12,
        kind: 'orders',
        count: 3
      },
      rooms: ['campaign:12']
    });
    const members = route(
      row({ topic: 'campaign_activity', entityId: 12, data: { kind: 'members', count: 40 } }),
      ''
    );
    expect(members?.payload).toMatchObject({ kind: 'members', count: 40 });
  });
});
