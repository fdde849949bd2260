import { describe, expect, it } from 'vitest';
import { checkAttributeValue } from '$shared/schemas/customer360.js';
import { keyFromLabel, optionList } from './attribute-keys.js';

describe('defining custom attributes', () => {
  it('suggests a key from a label that the database accepts', () => {
    expect(keyFromLabel('Shoe size')).toBe('shoe_size');
    expect(keyFromLabel('  2nd Phone (work) ')).toBe('nd_phone_work');
    expect(keyFromLabel('Crème brûlée')).toBe('creme_brulee');
    for (const label of ['Shoe size', 'VIP since', 'a'.repeat(60)])
      expect(keyFromLabel(label)).toMatch(/^[a-z][a-z0-9_]{0,39}$/);
  });

  it('reads options from a comma-separated list', () => {
    expect(optionList(' basic, plus ,, pro ')).toEqual(['basic', 'plus', 'pro']);
  });
});

describe('a value checked against its attribute’s type', () => {
  it('accepts what fits and stores money with two decimals', () => {
    expect(checkAttributeValue({ type: 'money', options: [] }, '12.5')).toEqual({ ok: true, value: '12.50' });
    expect(checkAttributeValue({ type: 'money', options: [] }, 3)).toEqual({ ok: true, value: '3.00' });
    expect(checkAttributeValue({ type: 'date', options: [] }, '2024-02-29')).toMatchObject({ ok: true });
    expect(checkAttributeValue({ type: 'choice', options: ['a', 'b'] }, 'b')).toMatchObject({ ok: true });
  });

  it('refuses what does not', () => {
    expect(checkAttributeValue({ type: 'number', options: [] }, '42').ok).toBe(false);
    expect(checkAttributeValue({ type: 'number', options: [] }, Infinity).ok).toBe(false);
    expect(checkAttributeValue({ type: 'date', options: [] }, '2023-02-29').ok).toBe(false);
    expect(checkAttributeValue({ type: 'boolean', options: [] }, 'true').ok).toBe(false);
    expect(checkAttributeValue({ type: 'choice', options: ['a'] }, 'c').ok).toBe(false);
    expect(checkAttributeValue({ type: 'text', options: [] }, 'x'.repeat(1001)).ok).toBe(false);
  });
});
