import { beforeAll, describe, it, expect } from 'vitest';
import { createTeam, createUser } from '../../support/fixtures.js';
import {
  db,
  world,
  ARGON2ID_HASH,
  unique,
  expectRejected,
  one,
  insertUser,
  useSchemaDatabase
} from './schema-support.js';

useSchemaDatabase();

describe('teams', () => {
  it('refuses a second team whose name differs only in case', async () => {
    await expectRejected(
      'teams',
      `INSERT INTO teams (name) VALUES ($1)`,
      ['team a'],
      '23505',
      'teams_name_key'
    );
    await expectRejected(
      'teams',
      `INSERT INTO teams (name) VALUES ($1)`,
      ['TEAM A'],
      '23505',
      'teams_name_key'
    );
    await expect(createTeam(db.sql, 'Team A2')).resolves.toBeGreaterThan(0);
  });

  it('refuses a second team whose name differs only in surrounding spaces', async () => {
    await expectRejected(
      'teams',
      `INSERT INTO teams (name) VALUES ($1)`,
      ['Team A '],
      '23505',
      'teams_name_key'
    );
  });

  it('refuses a blank team name', async () => {
    await expectRejected(
      'teams',
      `INSERT INTO teams (name) VALUES ($1)`,
      ['   '],
      '23514',
      'teams_name_check'
    );
    await expectRejected(
      'teams',
      `INSERT INTO teams (name) VALUES ($1)`,
      ['\n\t'],
      '23514',
      'teams_name_check'
    );
    await expectRejected('teams', `INSERT INTO teams (name) VALUES (NULL)`, [], '23502');
  });
});

describe('users', () => {
  it('stores emails lower-case and trimmed only', async () => {
    await expectRejected(
      'users',
      insertUser,
      ['Mixed.Case@test.dev', 'Mixed', ARGON2ID_HASH, 'manager', null],
      '23514',
      'users_email_check'
    );
    await expectRejected(
      'users',
      insertUser,
      [' padded@test.dev', 'Padded', ARGON2ID_HASH, 'manager', null],
      '23514',
      'users_email_check'
    );
    await expect(
      db.sql.query(insertUser, ['mixed.case@test.dev', 'Mixed', ARGON2ID_HASH, 'manager', null])
    ).resolves.toBeTruthy();
  });

  it('refuses an email that is not an address', async () => {
    for (const email of ['no-at-sign.test.dev', 'two words@test.dev', '@test.dev', 'user@']) {
      await expectRejected(
        'users',
        insertUser,
        [email, 'Bad', ARGON2ID_HASH, 'manager', null],
        '23514',
        'users_email_check'
      );
    }
  });

  it('refuses a second account with the same email', async () => {
    await expectRejected(
      'users',
      insertUser,
      [world.agentA.email, 'Twin', ARGON2ID_HASH, 'agent', world.teamA],
      '23505',
      'users_email_key'
    );
  });

  it('refuses an agent without a team, on insert and on update', async () => {
    await expectRejected(
      'users',
      insertUser,
      ['lonely.agent@test.dev', 'Lonely', ARGON2ID_HASH, 'agent', null],
      '23514',
      'users_agent_has_team'
    );
    await expectRejected(
      'users',
      `UPDATE users SET team_id = NULL WHERE id = $1`,
      [world.agentA.id],
      '23514',
      'users_agent_has_team'
    );
    await expectRejected(
      'users',
      `UPDATE users SET role = 'agent' WHERE id = $1`,
      [world.manager.id],
      '23514',
      'users_agent_has_team'
    );
    // Managers and admins need no team.
    await expect(
      db.sql.query(insertUser, ['teamless.manager@test.dev', 'Teamless', ARGON2ID_HASH, 'manager', null])
    ).resolves.toBeTruthy();
  });

  it('refuses to delete a team while an agent still works in it', async () => {
    const team = await createTeam(db.sql, unique('Staffed team '));
    await createUser(db.sql, { email: unique('staffed.agent') + '@test.dev', role: 'agent', teamId: team });
    await expectRejected(
      ['teams', 'users'],
      `DELETE FROM teams WHERE id = $1`,
      [team],
      '23514',
      'users_agent_has_team'
    );
  });

  it('refuses a role outside the enum', async () => {
    await expectRejected(
      'users',
      insertUser,
      ['root@test.dev', 'Root', ARGON2ID_HASH, 'superuser', null],
      '22P02'
    );
  });

  it('accepts only argon2id password hashes', async () => {
    const bcrypt = '$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW';
    const argon2i = '$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g';
    for (const hash of [bcrypt, argon2i, 'plaintext-password', '']) {
      await expectRejected(
        'users',
        insertUser,
        ['weak.hash@test.dev', 'Weak', hash, 'manager', null],
        '23514',
        'users_password_hash_check'
      );
    }
    await expectRejected('users', insertUser, ['no.hash@test.dev', 'None', null, 'manager', null], '23502');
  });
});

describe('sessions', () => {
  const insertSession = `INSERT INTO sessions (id, user_id, expires_at) VALUES ($1, $2, now() + interval '1 day')`;
  const hex64 = (c: string) => c.repeat(64);

  it('stores only 64-hex-digit ids (the SHA-256 of the token)', async () => {
    for (const id of ['abc', hex64('A'), hex64('g'), hex64('a') + 'b', 'raw-session-token']) {
      await expectRejected('sessions', insertSession, [id, world.manager.id], '23514', 'sessions_id_check');
    }
    await expect(db.sql.query(insertSession, [hex64('a'), world.manager.id])).resolves.toBeTruthy();
  });

  it('refuses a session for a user who is not active', async () => {
    const gone = await createUser(db.sql, {
      email: 'inactive.session@test.dev',
      role: 'manager',
      active: false
    });
    await expectRejected('sessions', insertSession, [hex64('f'), gone.id], '23514', 'sessions_user_active');
  });

  it('refuses a session of a user that does not exist', async () => {
    await expectRejected('sessions', insertSession, [hex64('b'), 999_999], '23503', 'sessions_user_id_fkey');
  });

  it('ends every session of a user who is deactivated, and only theirs', async () => {
    const leaver = await createUser(db.sql, { email: 'leaver@test.dev', role: 'manager' });
    const stayer = await createUser(db.sql, { email: 'stayer@test.dev', role: 'manager' });
    await db.sql.query(insertSession, [hex64('c'), leaver.id]);
    await db.sql.query(insertSession, [hex64('d'), leaver.id]);
    await db.sql.query(insertSession, [hex64('e'), stayer.id]);
    const sessionsOf = async (userId: number) =>
      (await db.sql.query(`SELECT id FROM sessions WHERE user_id = $1 ORDER BY id`, [userId])).rows.map(
        (r) => r.id
      );

    await db.sql.query(`UPDATE users SET name = 'Still here' WHERE id = $1`, [leaver.id]);
    expect(await sessionsOf(leaver.id)).toEqual([hex64('c'), hex64('d')]);

    await db.sql.query(`UPDATE users SET active = false WHERE id = $1`, [leaver.id]);
    expect(await sessionsOf(leaver.id)).toEqual([]);
    expect(await sessionsOf(stayer.id)).toEqual([hex64('e')]);
  });
});

describe('audit_log', () => {
  let entryId: number;
  beforeAll(async () => {
    entryId = (
      await one(
        `INSERT INTO audit_log (action, target_type, target_id) VALUES ('auth.login', 'user', '1') RETURNING id`
      )
    ).id;
  });

  it('refuses UPDATE, DELETE and TRUNCATE', async () => {
    await expectRejected(
      'audit_log',
      `UPDATE audit_log SET action = 'auth.logout' WHERE id = $1`,
      [entryId],
      '23001'
    );
    await expectRejected('audit_log', `DELETE FROM audit_log WHERE id = $1`, [entryId], '23001');
    await expectRejected('audit_log', `TRUNCATE audit_log`, [], '23001');
    expect(await one(`SELECT count(*)::int AS n FROM audit_log WHERE id = $1`, [entryId])).toEqual({ n: 1 });
  });

  it('refuses an action that is not a dotted lower-case name', async () => {
    for (const action of ['login', 'Auth.Login', 'auth.', 'auth login']) {
      await expectRejected(
        'audit_log',
        `INSERT INTO audit_log (action) VALUES ($1)`,
        [action],
        '23514',
        'audit_log_action_check'
      );
    }
    await expect(
      db.sql.query(`INSERT INTO audit_log (action) VALUES ('user.role_changed')`)
    ).resolves.toBeTruthy();
  });
});
