import { describe, expect, it } from 'vitest';
import { ProgramConfig, STARTING_PROGRAM } from './loyalty-program.js';

describe('ProgramConfig', () => {
  it('accepts the program Pulse started with', () => {
    expect(ProgramConfig.parse(STARTING_PROGRAM)).toEqual(STARTING_PROGRAM);
  });

  it('refuses tiers out of order, a bronze tier above 0 and reward ids used twice', () => {
    const levels = STARTING_PROGRAM.tiers.levels.map((l) => ({ ...l }));
    levels[2].threshold = 1000;
    levels[0].threshold = 5;
    const rewards = [STARTING_PROGRAM.rewards[0], STARTING_PROGRAM.rewards[0]];
    const result = ProgramConfig.safeParse({
      ...STARTING_PROGRAM,
      tiers: { basis: 'spend_12m', levels },
      rewards
    });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(
      expect.arrayContaining(['tiers.levels.0.threshold', 'tiers.levels.2.threshold', 'rewards.1.id'])
    );
  });

  it('allows a pending period of a fraction of a day and refuses a negative one', () => {
    expect(ProgramConfig.safeParse({ ...STARTING_PROGRAM, pendingDays: 0.0001 }).success).toBe(true);
    expect(ProgramConfig.safeParse({ ...STARTING_PROGRAM, pendingDays: -1 }).success).toBe(false);
  });
});
