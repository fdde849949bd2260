import { describe, expect, it } from 'vitest';
import { checkAttributeValue, type AttributeDefinition } from './attribute-values.js';

const def = (type: AttributeDefinition['type'], options: string[] = []): AttributeDefinition => ({
  key: 'k',
  label: 'Field',
  type,
  options
});

describe('custom attribute values', () => {
  it('takes a value of the definition’s type, normalised, and null to clear', () => {
    expect(checkAttributeValue(def('text'), '  hello ')).toEqual({ ok: true, value: 'hello' });
    expect(checkAttributeValue(def('number'), 42.5)).toEqual({ ok: true, value: 42.5 });
    expect(checkAttributeValue(def('money'), '12.5')).toEqual({ ok: true, value: '12.50' });
    expect(checkAttributeValue(def('date'), '2026-02-28')).toEqual({ ok: true, value: '2026-02-28' });
    expect(checkAttributeValue(def('boolean'), false)).toEqual({ ok: true, value: false });
    expect(checkAttributeValue(def('choice', ['gold', 'silver']), 'gold')).toEqual({
      ok: true,
      value: 'gold'
    });
    expect(checkAttributeValue(def('number'), null)).toEqual({ ok: true, value: null });
  });

  it('refuses a value of another type, naming the field', () => {
    for (const [type, value] of [
      ['text', ''],
      ['text', 3],
      ['number', '3'],
      ['number', Number.NaN],
      ['money', 12.5],
      ['money', '1.234'],
      ['date', '2026-02-30'],
      ['date', '2026-2-1'],
      ['boolean', 'true'],
      ['choice', 'bronze']
    ] as const) {
      const result = checkAttributeValue(def(type, type === 'choice' ? ['gold'] : []), value);
      expect(result.ok, `${type} ${String(value)}`).toBe(false);
      if (!result.ok) expect(result.message).toMatch(/^Field: /);
    }
  });
});
