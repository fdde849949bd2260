import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPulse } from '../../server/pulse.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createTicket, createWorld } from '../support/fixtures.js';
import { Browser, expectErrorShape } from '../support/http.js';
import { startTestServer } from '../support/server.js';

let db: TestDatabase;
let server: RunningPulse;
let world: Awaited<ReturnType<typeof createWorld>>;
let as: Record<'agentA' | 'agentB' | 'manager' | 'admin', Browser>;

const denials = async (userId: number) =>
  Number(
    (
      await db.sql.query(
        `SELECT count(*) FROM audit_log WHERE action = 'access.denied' AND actor_user_id = $1`,
        [userId]
      )
    ).rows[0].count
  );

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  server = await startTestServer(db.url);
  as = {
    agentA: new Browser(server.url),
    agentB: new Browser(server.url),
    manager: new Browser(server.url),
    admin: new Browser(server.url)
  };
  await as.agentA.login(world.agentA.email);
  await as.agentB.login(world.agentB.email);
  await as.manager.login(world.manager.email);
  await as.admin.login(world.admin.email);
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

describe('tickets, object by object', () => {
  it('an agent reads their team’s ticket', async () => {
    const id = await createTicket(db.sql, {
      customerId: world.customerId,
      teamId: world.teamA,
      subject: 'Mine'
    });
    const res = await as.agentA.get(`/api/tickets/${id}`);
    expect(res.status).toBe(200);
    expect(res.body.ticket).toMatchObject({
      id,
      subject: 'Mine',
      teamId: world.teamA,
      status: 'new',
      priority: 'normal'
    });
  });

  it('an agent cannot read another team’s ticket by guessing its id; the attempt is audited', async () => {
    const id = await createTicket(db.sql, {
      customerId: world.customerId,
      teamId: world.teamB,
      subject: 'Theirs'
    });
    const before = await denials(world.agentA.id);
    const res = await as.agentA.get(`/api/tickets/${id}`);
    expect(res.status).toBe(404);
    expectErrorShape(res.body);
    expect(JSON.stringify(res.body)).not.toContain('Theirs');
    expect(await denials(world.agentA.id)).toBe(before + 1);
    // The answer is the same as for a ticket that does not exist.
    const missing = await as.agentA.get(`/api/tickets/999999`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe(res.body.error.message);
  });

  it('a manager reads every team’s tickets', async () => {
    const id = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamB });
    expect((await as.manager.get(`/api/tickets/${id}`)).status).toBe(200);
  });

  it('a malformed id is a 400, not a 500', async () => {
    const res = await as.manager.get(`/api/tickets/abc`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
  });
});

describe('teams', () => {
  it('everyone signed in reads them; only managers and admins change them', async () => {
    expect((await as.agentA.get('/api/teams')).body.teams.map((t: { name: string }) => t.name)).toEqual([
      'Team A',
      'Team B'
    ]);
    const before = await denials(world.agentA.id);
    const denied = await as.agentA.post('/api/teams', { name: 'Shadow team' });
    expect(denied.status).toBe(403);
    expect(await denials(world.agentA.id)).toBe(before + 1);
    const created = await as.manager.post('/api/teams', { name: 'VIP Care' });
    expect(created.status).toBe(201);
    expect(created.body.team).toMatchObject({ name: 'VIP Care', members: 0 });
    const count = Number(
      (await db.sql.query(`SELECT count(*) FROM teams WHERE name = 'Shadow team'`)).rows[0].count
    );
    expect(count).toBe(0);
  });

  it('refuses a duplicate name, whatever its case, with a 409', async () => {
    const res = await as.manager.post('/api/teams', { name: 'team a' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('conflict');
  });
});

describe('users', () => {
  it('only admins manage users', async () => {
    expect((await as.agentA.get('/api/users')).status).toBe(403);
    expect((await as.manager.get('/api/users')).status).toBe(403);
    const res = await as.admin.get('/api/users');
    expect(res.status).toBe(200);
    expect(res.body.users.map((u: { email: string }) => u.email)).toContain(world.agentA.email);
    expect(JSON.stringify(res.body)).not.toContain('argon2');
  });

  it('an admin creates an agent, who can sign in', async () => {
    const res = await as.admin.post('/api/users', {
      email: 'New.Agent@Test.dev',
      name: 'New Agent',
      role: 'agent',
      teamId: world.teamA,
      password: 'a-long-password'
    });
    expect(res.status).toBe(201);
    expect(res.body.user).toMatchObject({
      email: 'new.agent@test.dev',
      role: 'agent',
      teamId: world.teamA,
      active: true
    });
    await new Browser(server.url).login('new.agent@test.dev', 'a-long-password');
  });

  it('refuses an agent without a team, and a body with nothing to change', async () => {
    const noTeam = await as.admin.post('/api/users', {
      email: 'x@test.dev',
      name: 'X',
      role: 'agent',
      password: 'a-long-password'
    });
    expect(noTeam.status).toBe(400);
    expect(noTeam.body.error.details[0].path).toBe('teamId');
    const empty = await as.admin.request('PATCH', `/api/users/${world.agentB.id}`, {});
    expect(empty.status).toBe(400);
  });

  it('an admin cannot lock themselves out', async () => {
    const res = await as.admin.request('PATCH', `/api/users/${world.admin.id}`, { active: false });
    expect(res.status).toBe(422);
    expect((await as.admin.get('/api/auth/me')).status).toBe(200);
  });

  it('a role change applies to the user’s next request', async () => {
    const res = await as.admin.request('PATCH', `/api/users/${world.manager.id}`, {
      role: 'agent',
      teamId: world.teamA
    });
    expect(res.status).toBe(200);
    expect((await as.manager.get('/api/auth/me')).body.user.role).toBe('agent');
    const other = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamB });
    expect((await as.manager.get(`/api/tickets/${other}`)).status).toBe(404);
  });
});
