import { describe, expect, it } from 'vitest';
import { LOYALTY_BONUSES, LOYALTY_ENTRY_KINDS } from '$shared/enums.js';
import { entryLabel } from './format.js';

describe('a ledger entry in words', () => {
  it('names a bonus by its event, not as a generic earning', () => {
    expect(entryLabel({ kind: 'earn', bonus: 'sign_up' })).toBe('Sign-up bonus');
    expect(entryLabel({ kind: 'earn', bonus: 'birthday' })).toBe('Birthday bonus');
    expect(entryLabel({ kind: 'earn', bonus: 'first_review' })).toBe('First review bonus');
  });

  it('names every other entry by its kind, as a word and never the raw code', () => {
    expect(entryLabel({ kind: 'earn', bonus: null })).toBe('Earned');
    expect(entryLabel({ kind: 'reverse' })).toBe('Reversed');
    for (const kind of LOYALTY_ENTRY_KINDS) expect(entryLabel({ kind })).not.toBe(kind);
    for (const bonus of LOYALTY_BONUSES) expect(entryLabel({ kind: 'earn', bonus })).toMatch(/ bonus$/);
  });
});
