import type { User } from 'lucia';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STARTING_PROGRAM, type ProgramConfig } from '#shared/schemas/loyalty-program.js';
import { poolDb } from '../../server/data/db.js';
import { runLoyaltySchedule } from '../../server/services/loyalty/schedule.js';
import { publishDraft, saveDraft } from '../../server/services/loyalty-program/versions.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createCustomer, createLoyaltyAccount, createUser, earnPoints } from '../support/fixtures.js';

// Grace on tier drops (migration 0031): publishing a version that lowers members' tiers gives
// exactly those members a grace row; while the version is in force and the grace lasts they keep
// their tier, then the schedule drops them, each drop a tier change on the change log. Gold is
// 8,000 lifetime points today and 10,000 in the new version.

let db: TestDatabase;
let actor: { user: User; ip: null };
const member: Record<string, number> = {};

async function newMember(name: string, points: number) {
  const customerId = await createCustomer(db.sql, `${name}@example.com`, name);
  const accountId = await createLoyaltyAccount(db.sql, customerId);
  await earnPoints(db.sql, { accountId, points, reason: 'Fixture', key: `grace:${name}` });
  member[name] = accountId;
}

const tiers = async () =>
  Object.fromEntries(
    (
      await db.sql.query<{ id: number; tier: string }>(
        `SELECT id, tier FROM loyalty_accounts WHERE id = ANY($1) ORDER BY id`,
        [Object.values(member)]
      )
    ).rows.map((r) => [Object.keys(member).find((k) => member[k] === r.id), r.tier])
  );

beforeAll(async () => {
  db = await createTestDatabase();
  const user = await createUser(db.sql, { email: 'grace.manager@test.dev', role: 'manager', name: 'M' });
  actor = { user: { id: user.id, role: 'manager', teamId: null } as unknown as User, ip: null };
  await newMember('gwen', 9000); // gold today, silver under the new version: graced
  await newMember('glen', 12000); // gold under both
  await newMember('sid', 3000); // silver under both
});
afterAll(async () => {
  await db?.drop();
});

async function publish(config: ProgramConfig) {
  const draft = await saveDraft(poolDb(db.sql), actor, { config });
  return publishDraft(poolDb(db.sql), actor, { draftId: draft.draft!.id, version: draft.draft!.rowVersion });
}

describe('a version that lowers tiers', () => {
  it('graces exactly the members it drops, who keep their tier until the grace ends, then drop visibly', async () => {
    const config = structuredClone(STARTING_PROGRAM);
    config.tiers.levels[2].threshold = 10000;
    config.tierDropGraceDays = 30;
    const published = await publish(config);
    expect(published.graced).toBe(1);
    const { rows: graces } = await db.sql.query(
      `SELECT account_id, kept_tier FROM loyalty_tier_grace WHERE version_id = $1`,
      [published.version.id]
    );
    expect(graces).toEqual([{ account_id: member.gwen, kept_tier: 'gold' }]);

    // In force, and the grace lasts: the schedule leaves her gold, and so does a new entry.
    await runLoyaltySchedule(poolDb(db.sql));
    await earnPoints(db.sql, { accountId: member.gwen, points: 10, reason: 'Order', key: 'grace:gwen:more' });
    expect(await tiers()).toEqual({ gwen: 'gold', glen: 'gold', sid: 'silver' });

    // The grace ends (as 30 days passing would make it).
    await db.sql.query(`UPDATE loyalty_tier_grace SET until = now() WHERE version_id = $1`, [
      published.version.id
    ]);
    const run = await runLoyaltySchedule(poolDb(db.sql));
    expect(run.tiers).toBe(1);
    expect(await tiers()).toEqual({ gwen: 'silver', glen: 'gold', sid: 'silver' });
    const { rows: changes } = await db.sql.query(
      `SELECT c.from_tier, c.to_tier, c.entry_id,
              EXISTS (SELECT 1 FROM change_log l WHERE l.topic = 'loyalty_tier_change' AND l.entity_id = c.id) AS logged
         FROM loyalty_tier_changes c WHERE c.account_id = $1 ORDER BY c.id DESC LIMIT 1`,
      [member.gwen]
    );
    expect(changes).toEqual([{ from_tier: 'gold', to_tier: 'silver', entry_id: null, logged: true }]);
  });

  it('without grace days, drops them when the schedule next runs', async () => {
    const config = structuredClone(STARTING_PROGRAM);
    config.tiers.levels[2].threshold = 15000;
    config.tierDropGraceDays = 0;
    const published = await publish(config);
    expect(published.graced).toBe(0);
    await runLoyaltySchedule(poolDb(db.sql));
    expect(await tiers()).toEqual({ gwen: 'silver', glen: 'silver', sid: 'silver' });
  });
});
