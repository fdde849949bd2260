import { describe, expect, it } from 'vitest';
import { shopifyOrder } from '../../../../tests/fixtures/storefront/shopify.js';
import { wooOrder } from '../../../../tests/fixtures/storefront/woocommerce.js';
import { parseDelivery, UnusablePayload } from './normalize.js';
import { checkPulseSignature, signBase64Hmac, signPulse, verifyBase64Hmac } from './signatures.js';

const order = (p: ReturnType<typeof parseDelivery>) => {
  if (p.kind !== 'order') throw new Error(`not an order: ${p.kind}`);
  return p.order;
};

describe('Shopify statuses', () => {
  it.each([
    [{ financial_status: 'pending' }, 'pending'],
    [{ financial_status: 'authorized' }, 'pending'],
    [{ financial_status: 'paid' }, 'paid'],
    [{ financial_status: 'paid', fulfillment_status: 'fulfilled' }, 'fulfilled'],
    [{ financial_status: 'partially_refunded' }, 'paid'],
    [{ financial_status: 'refunded' }, 'refunded'],
    [{ financial_status: 'voided' }, 'cancelled'],
    [{ financial_status: 'paid', cancelled_at: '2026-12-01T10:00:00Z' }, 'cancelled'],
    [{ financial_status: 'refunded', cancelled_at: '2026-12-01T10:00:00Z' }, 'refunded']
  ])('%j is %s', (over, status) => {
    expect(order(parseDelivery('shopify', 'orders/updated', shopifyOrder(over))).status).toBe(status);
  });

  it('reads the documented order: total as a string, items with SKU, price and quantity', () => {
    const o = order(parseDelivery('shopify', 'orders/create', shopifyOrder({ id: 42 })));
    expect(o).toMatchObject({ sourceId: '42', name: '#9999', total: '403.00', currency: 'USD' });
    expect(o.customer).toEqual({
      email: 'jon@example.com',
      firstName: 'John',
      lastName: 'Smith',
      phone: '555-555-SHIP'
    });
    expect(o.items.map((i) => [i.sku, i.quantity, i.unitPrice])).toEqual([
      ['SKU2006-001', 1, '199.00'],
      ['SKU2006-020', 1, '199.00']
    ]);
  });

  it('ignores topics Pulse does not use, and refuses an order without an id', () => {
    expect(parseDelivery('shopify', 'products/create', {}).kind).toBe('ignore');
    expect(() => parseDelivery('shopify', 'orders/create', { total_price: '1.00' })).toThrow(UnusablePayload);
  });
});

describe('WooCommerce', () => {
  it('reads GMT dates as UTC and numeric item prices as decimals', () => {
    const o = order(parseDelivery('woocommerce', 'order.updated', wooOrder({ status: 'completed' })));
    expect(o).toMatchObject({ status: 'fulfilled', updatedAt: '2026-12-01T19:28:03.000Z', total: '29.35' });
    expect(o.items.map((i) => [i.sku, i.productRef, i.unitPrice])).toEqual([
      [null, '93', '3.00'],
      ['Bar3', '23', '12.00']
    ]);
  });
});

describe('discount codes', () => {
  it('reads Shopify discount_codes and WooCommerce coupon_lines, upper case, each once', () => {
    const shopify = order(
      parseDelivery('shopify', 'orders/create', {
        ...shopifyOrder(),
        discount_codes: [{ code: ' pts-ab12 ' }, { code: 'PTS-AB12' }, { code: 'C7-X' }, { amount: '1.00' }]
      })
    );
    expect(shopify.discountCodes).toEqual(['PTS-AB12', 'C7-X']);
    const woo = order(
      parseDelivery('woocommerce', 'order.created', {
        ...wooOrder(),
        coupon_lines: [{ id: 1, code: 'summer' }]
      })
    );
    expect(woo.discountCodes).toEqual(['SUMMER']);
    expect(order(parseDelivery('woocommerce', 'order.created', wooOrder())).discountCodes).toEqual([]);
  });
});

describe('signatures', () => {
  it('base64 HMAC over the raw bytes', () => {
    const body = '{"id":1}';
    expect(
      verifyBase64Hmac('secret-0123456789', Buffer.from(body), signBase64Hmac('secret-0123456789', body))
    ).toBe(true);
    expect(
      verifyBase64Hmac(
        'secret-0123456789',
        Buffer.from(`${body} `),
        signBase64Hmac('secret-0123456789', body)
      )
    ).toBe(false);
    expect(verifyBase64Hmac('secret-0123456789', Buffer.from(body), 'not base64!')).toBe(false);
  });

  it('X-Pulse-Signature: valid within 5 minutes either way, stale beyond, invalid with another secret', () => {
    const now = 1_800_000_000;
    const body = Buffer.from('{}');
    expect(
      checkPulseSignature('s-0123456789abcdef', body, signPulse('s-0123456789abcdef', '{}', now - 299), now)
    ).toBe('valid');
    expect(
      checkPulseSignature('s-0123456789abcdef', body, signPulse('s-0123456789abcdef', '{}', now - 301), now)
    ).toBe('stale');
    expect(
      checkPulseSignature('s-0123456789abcdef', body, signPulse('s-0123456789abcdef', '{}', now + 301), now)
    ).toBe('stale');
    expect(
      checkPulseSignature('another-secret-000', body, signPulse('s-0123456789abcdef', '{}', now), now)
    ).toBe('invalid');
    expect(checkPulseSignature('s-0123456789abcdef', body, 't=abc,v1=00', now)).toBe('invalid');
  });
});
