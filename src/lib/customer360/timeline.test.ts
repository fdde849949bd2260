import { describe, expect, it } from 'vitest';
import type { TimelineItem } from '$shared/schemas/customer360.js';
import { compareItems, fromCsat, fromOrderStatus, mergeItems, valueText } from './timeline.js';

const item = (key: string, at: string): TimelineItem =>
  ({ key, at, actor: null, kind: key.split(':')[0], noteId: 1, body: '' }) as TimelineItem;

describe('the timeline’s order and merging', () => {
  it('sorts newest first, ties by kind then id descending (the server’s page order)', () => {
    const same = '2026-12-01T10:00:00.000Z';
    const sorted = [
      item('note:2', same),
      item('profile:9', same),
      item('note:10', same),
      item('loyalty:1', '2026-12-02T00:00:00.000Z')
    ].sort(compareItems);
    expect(sorted.map((i) => i.key)).toEqual(['loyalty:1', 'profile:9', 'note:10', 'note:2']);
  });

  it('keeps one item per key: a replayed event or a page read after it never shows twice', () => {
    const a = item('note:1', '2026-12-01T10:00:00.000Z');
    const merged = mergeItems(
      [a],
      [{ ...a, body: 'edited' } as TimelineItem, item('note:2', '2026-12-01T11:00:00.000Z')]
    );
    expect(merged.map((i) => i.key)).toEqual(['note:2', 'note:1']);
    expect((merged[1] as { body: string }).body).toBe('edited');
  });
});

describe('live events as timeline items', () => {
  it('names an order status change by its change id, with the order’s number when known', () => {
    const e = {
      seq: 5,
      horizon: '1:1:',
      at: '2026-12-01T10:00:00.000Z',
      op: 'insert' as const,
      data: {
        id: 7,
        orderId: 3,
        customerId: 1,
        from: 'paid' as const,
        to: 'refunded' as const,
        actorUserId: 4,
        changedAt: '2026-12-01T10:00:00.000Z'
      }
    };
    const got = fromOrderStatus(e, { externalId: 'SH-3', total: '9.00', currency: 'EUR' }, (id) =>
      id === 4 ? { id, name: 'Ana' } : null
    );
    expect(got).toMatchObject({
      key: 'order_status:7',
      orderId: 3,
      to: 'refunded',
      externalId: 'SH-3',
      actor: { name: 'Ana' }
    });
  });

  it('turns a ticket update into a CSAT item only when the score changed to a value', () => {
    const ticket = { id: 8, subject: 'Late', csatScore: 4 } as never;
    const base = {
      seq: 1,
      horizon: '1:1:',
      at: '2026-12-01T10:00:00.000Z',
      op: 'update' as const,
      data: ticket
    };
    expect(fromCsat({ ...base, old: { csatScore: null } })).toMatchObject({ key: 'csat:8', score: 4 });
    expect(fromCsat({ ...base, old: { status: 'open' } } as never)).toBeNull();
  });

  it('writes values as short text', () => {
    expect(valueText(null)).toBe('—');
    expect(valueText(['vip', 'b2b'])).toBe('vip, b2b');
    expect(valueText(true)).toBe('Yes');
    expect(valueText([{ city: 'X' }])).toBe('1 entry');
  });
});
