import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PreviewJob } from '#shared/schemas/loyalty-editor.js';
import { STARTING_PROGRAM, type ProgramConfig } from '#shared/schemas/loyalty-program.js';
import type { RunningPulse } from '../../server/pulse.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import {
  createCustomer,
  createLoyaltyAccount,
  createTeam,
  createUser,
  earnPoints
} from '../support/fixtures.js';
import { Browser, expectErrorShape } from '../support/http.js';
import { closeSockets, openSocket, waitFor } from '../support/socket.js';
import { startTestServer } from '../support/server.js';

// The program editor end to end on a small shop whose answers are known: members hold lifetime
// points from earn entries (no orders, so the replay leaves their points as they are), and one
// member, Mia, earned her 5,000 points on 5,000.00 of orders this year.

let db: TestDatabase;
let server: RunningPulse;
let manager: Browser;
let otherManager: Browser;
let agent: Browser;
const member: Record<string, { customerId: number; accountId: number }> = {};

const API = '/api/loyalty-program';
const clone = (): ProgramConfig => structuredClone(STARTING_PROGRAM);

async function newMember(name: string, points: number) {
  const customerId = await createCustomer(db.sql, `${name}@example.com`, name);
  const accountId = await createLoyaltyAccount(db.sql, customerId);
  if (points > 0) await earnPoints(db.sql, { accountId, points, reason: 'Fixture', key: `fixture:${name}` });
  member[name] = { customerId, accountId };
}

beforeAll(async () => {
  db = await createTestDatabase();
  const team = await createTeam(db.sql, 'Support');
  await createUser(db.sql, { email: 'manager@test.dev', role: 'manager', name: 'Manager' });
  await createUser(db.sql, { email: 'other@test.dev', role: 'manager', name: 'Other Manager' });
  await createUser(db.sql, { email: 'agent@test.dev', role: 'agent', teamId: team, name: 'Agent' });
  // Lifetime points: two between 8,000 and 10,000 (gold today), one above, silver, platinum, bronze.
  await newMember('gina', 9000);
  await newMember('gus', 9500);
  await newMember('gail', 10500);
  await newMember('sam', 3000);
  await newMember('pat', 25000);
  await newMember('bo', 100);
  await newMember('mia', 5000);
  await db.sql.query(
    `INSERT INTO orders (customer_id, order_date, status, total) VALUES
       ($1, now() - interval '2 months', 'delivered', 3000), ($1, now() - interval '20 days', 'shipped', 2000),
       ($1, now() - interval '14 months', 'delivered', 9999), ($1, now() - interval '1 month', 'refunded', 9999)`,
    [member.mia.customerId]
  );
  server = await startTestServer(db.url);
  manager = await Browser.signedIn(server.url, 'manager@test.dev');
  otherManager = await Browser.signedIn(server.url, 'other@test.dev');
  agent = await Browser.signedIn(server.url, 'agent@test.dev');
});

afterAll(async () => {
  closeSockets();
  await server?.close();
  await db?.drop();
});

async function saveDraft(config: ProgramConfig) {
  const current = await manager.getOk(`${API}/draft`);
  const res = await manager.request('PUT', `${API}/draft`, {
    config,
    ...(current.draft ? { version: current.draft.rowVersion } : {})
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.draft as { id: number; rowVersion: number };
}

/** Starts a preview of the saved draft and follows it on the socket to the end. */
async function preview(): Promise<PreviewJob> {
  const socket = await openSocket(server.url, manager);
  const res = await manager.post(`${API}/previews`);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const id = res.body.job.id as number;
  const done = await waitFor<PreviewJob>(
    socket,
    'loyalty:preview_progress',
    (j: PreviewJob) => j.id === id && j.state !== 'running',
    20_000
  );
  expect(done.state, done.error ?? '').toBe('done');
  socket.close();
  return done;
}

describe('the draft', () => {
  it('starts from nothing, and the version in force is the starting program', async () => {
    const body = await manager.getOk(`${API}/draft`);
    expect(body.draft).toBeNull();
    expect(body.current.version).toBe(1);
    expect(body.current.config.tiers.levels[2].threshold).toBe(8000);
  });

  it('refuses a config that breaks the rules, saying which field, and saves nothing', async () => {
    const bad = clone();
    bad.tiers.levels[2].threshold = 1000; // below silver's
    bad.earn.pointsPerUnit = -1;
    const res = await manager.request('PUT', `${API}/draft`, { config: bad });
    expect(res.status).toBe(400);
    expectErrorShape(res.body);
    const paths = (res.body.error.details as { path: string }[]).map((d) => d.path);
    expect(paths).toContain('config.earn.pointsPerUnit');
    expect((await manager.getOk(`${API}/draft`)).draft).toBeNull();
  });

  it('refuses an edit over a newer save of someone else (409)', async () => {
    const first = await saveDraft(clone());
    const mine = clone();
    mine.pendingDays = 14;
    const theirs = await otherManager.request('PUT', `${API}/draft`, {
      config: mine,
      version: first.rowVersion
    });
    expect(theirs.status).toBe(200);
    const late = await manager.request('PUT', `${API}/draft`, { config: clone(), version: first.rowVersion });
    expect(late.status).toBe(409);
    expect((await manager.getOk(`${API}/draft`)).draft.config.pendingDays).toBe(14);
  });
});

describe('the impact preview', () => {
  it('of an unchanged draft moves nobody and keeps the liability', async () => {
    await saveDraft(clone());
    const { result, progress } = await preview();
    expect(progress).toBe(100);
    expect(result).toMatchObject({ members: 7, up: 0, down: 0, months: 12 });
    // 9000 + 9500 + 10500 + 3000 + 25000 + 100 + 5000 points at a cent each.
    expect(result!.liability.before).toEqual({ points: 62100, value: '621.00' });
    expect(result!.liability.after).toEqual({ points: 62100, value: '621.00' });
  });

  it("raising gold's threshold moves exactly the members between the old and new threshold down", async () => {
    const draft = clone();
    draft.tiers.levels[2].threshold = 10000;
    await saveDraft(draft);
    const { result } = await preview();
    expect(result).toMatchObject({ up: 0, down: 2 });
    const gold = result!.tiers.find((t) => t.tier === 'gold')!;
    const silver = result!.tiers.find((t) => t.tier === 'silver')!;
    expect(gold).toEqual({ tier: 'gold', current: 3, draft: 1 });
    expect(silver).toEqual({ tier: 'silver', current: 2, draft: 4 });
  });

  it('doubling the earn rate replays the counted orders of the last 12 months only', async () => {
    const draft = clone();
    draft.earn.pointsPerUnit = 2;
    await saveDraft(draft);
    const { result } = await preview();
    // Mia's 5,000.00 of counted orders earn 10,000 instead of 5,000: gold instead of silver.
    expect(result).toMatchObject({ up: 1, down: 0 });
    expect(result!.liability.after.points).toBe(62100 + 5000);
  });

  it('answers its status over HTTP as well', async () => {
    const socket = await openSocket(server.url, manager);
    const res = await manager.post(`${API}/previews`);
    const id = res.body.job.id;
    await waitFor(
      socket,
      'loyalty:preview_progress',
      (j: PreviewJob) => j.id === id && j.state === 'done',
      20_000
    );
    socket.close();
    const status = await manager.getOk(`${API}/previews/${id}`);
    expect(status.job).toMatchObject({ id, state: 'done', progress: 100 });
    expect((await manager.get(`${API}/previews/999999`)).status).toBe(404);
  });
});

describe('publishing', () => {
  it('gives the members a new version drops a grace period, and leaves the version immutable', async () => {
    const draft = clone();
    draft.tiers.levels[2].threshold = 10000;
    draft.tierDropGraceDays = 45;
    const saved = await saveDraft(draft);
    const res = await manager.post(`${API}/publish`, { draftId: saved.id, version: saved.rowVersion });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.graced).toBe(2);
    const until = new Date(res.body.graceUntil).getTime();
    expect(Math.round((until - Date.now()) / 86_400_000)).toBe(45);
    const { rows } = await db.sql.query(
      `SELECT account_id, kept_tier FROM loyalty_tier_grace WHERE version_id = $1 ORDER BY account_id`,
      [res.body.version.id]
    );
    expect(rows).toEqual([
      { account_id: member.gina.accountId, kept_tier: 'gold' },
      { account_id: member.gus.accountId, kept_tier: 'gold' }
    ]);
    const versions = await manager.getOk(`${API}/versions`);
    expect(versions.currentId).toBe(res.body.version.id);
    expect((await manager.getOk(`${API}/draft`)).draft).toBeNull();
    // The top members show the tier a member keeps, and until when.
    const top = await manager.getOk(`${API}/report/top?limit=10`);
    const gina = top.members.find((m: { customerId: number }) => m.customerId === member.gina.customerId);
    expect(gina.grace).toEqual({ tier: 'gold', until: res.body.graceUntil });
    // The database keeps a published version as it was, whoever writes.
    await expect(
      db.sql.query(`UPDATE loyalty_program_versions SET config = config WHERE id = $1`, [res.body.version.id])
    ).rejects.toThrow(/immutable/);
  });

  it('with a future effective date: scheduled, not yet in force', async () => {
    const saved = await saveDraft(clone());
    const at = new Date(Date.now() + 7 * 86_400_000).toISOString();
    const res = await manager.post(`${API}/publish`, {
      draftId: saved.id,
      version: saved.rowVersion,
      effectiveAt: at
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.version.effectiveAt).toBe(at);
    const versions = await manager.getOk(`${API}/versions`);
    expect(versions.currentId).not.toBe(res.body.version.id);
    expect(versions.versions[0]).toMatchObject({ id: res.body.version.id, status: 'published' });
  });

  it('refuses an effective date in the past, with the field', async () => {
    const saved = await saveDraft(clone());
    const res = await manager.post(`${API}/publish`, {
      draftId: saved.id,
      version: saved.rowVersion,
      effectiveAt: '2020-01-01T00:00:00Z'
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toBe('effectiveAt');
  });

  it('of two concurrent publishes of the draft, one wins and the other gets 409', async () => {
    const saved = await saveDraft(clone());
    const at = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const body = { draftId: saved.id, version: saved.rowVersion, effectiveAt: at };
    const answers = await Promise.all([
      manager.post(`${API}/publish`, body),
      otherManager.post(`${API}/publish`, body)
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    const { rows } = await db.sql.query(
      `SELECT count(*)::int AS n FROM loyalty_program_versions WHERE id = $1 AND status = 'published'`,
      [saved.id]
    );
    expect(rows[0].n).toBe(1);
  });
});

describe('the reports', () => {
  it('count members by tier with the count 30 days ago, and the liability', async () => {
    const tiers = await manager.getOk(`${API}/report/tiers`);
    expect(tiers.members).toBe(7);
    const count = (t: string) => tiers.tiers.find((x: { tier: string }) => x.tier === t).members;
    expect([count('bronze'), count('silver'), count('gold'), count('platinum')]).toEqual([1, 2, 3, 1]);
    // Everyone joined today: nobody counted 30 days ago.
    expect(tiers.tiers.every((t: { before: number }) => t.before === 0)).toBe(true);
    const liability = await manager.getOk(`${API}/report/liability`);
    expect(liability).toMatchObject({ outstanding: 62100, outstandingValue: '621.00', pointValue: '0.01' });
    const activity = await manager.getOk(`${API}/report/activity?days=30`);
    expect(activity.totals.issued).toBe(62100);
    expect(activity.points).toHaveLength(30);
    const recent = await manager.getOk(`${API}/report/recent?limit=3`);
    expect(recent.entries).toHaveLength(3);
    expect(recent.entries[0]).toMatchObject({ kind: 'earn', customerName: 'mia Tester' });
  });
});

describe('who may', () => {
  it('refuses agents every route (403), and anyone signed out (401)', async () => {
    for (const [method, path] of [
      ['GET', `${API}/report/tiers`],
      ['GET', `${API}/draft`],
      ['PUT', `${API}/draft`],
      ['POST', `${API}/previews`],
      ['POST', `${API}/publish`],
      ['GET', `${API}/versions`]
    ]) {
      const res = await agent.request(method, path, method === 'GET' ? undefined : { config: clone() });
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    expect((await new Browser(server.url).get(`${API}/versions`)).status).toBe(401);
  });
});
