import { describe, expect, it } from 'vitest';
import { sourceProblem } from './imports.svelte.js';

describe('the source of external ids, as typed on the imports screen', () => {
  it('may be left empty (the default source) or be a source name', () => {
    expect(sourceProblem('')).toBeNull();
    expect(sourceProblem('   ')).toBeNull();
    expect(sourceProblem('shopify')).toBeNull();
    expect(sourceProblem(' legacy-crm ')).toBeNull();
    expect(sourceProblem('erp_2.eu')).toBeNull();
  });

  it('refuses what the server would refuse, saying what a name may hold', () => {
    for (const bad of ['Legacy CRM', 'shop/ify', '-shopify', 'x'.repeat(41)])
      expect(sourceProblem(bad)).toMatch(/lower-case letters, digits/);
  });
});
