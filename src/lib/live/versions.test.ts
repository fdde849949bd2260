import { describe, expect, it } from 'vitest';
import { isNewer, VersionLedger } from './versions.js';

describe('versions', () => {
  it('let a newer or equal version replace what is shown, never an older one', () => {
    expect(isNewer({ version: 3 }, { version: 4 })).toBe(true);
    expect(isNewer({ version: 3 }, { version: 3 })).toBe(true);
    expect(isNewer({ version: 3 }, { version: 2 })).toBe(false);
    expect(isNewer(undefined, { version: 1 })).toBe(true);
  });

  it('keep a REST row that trails a change the stream already applied off the screen', () => {
    const ledger = new VersionLedger();
    expect(ledger.note({ id: 7, version: 5 })).toBe(true);
    expect(ledger.note({ id: 7, version: 4 })).toBe(false);
    expect(ledger.current({ id: 7, version: 4 })).toBe(false);
    expect(ledger.current({ id: 7, version: 5 })).toBe(true);
    expect(ledger.current({ id: 8, version: 1 })).toBe(true);
  });
});
