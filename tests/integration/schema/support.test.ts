import { beforeAll, describe, it, expect } from 'vitest';
import { createTeam, createTicket } from '../../support/fixtures.js';
import { db, world, unique, expectRejected, one, useSchemaDatabase } from './schema-support.js';

useSchemaDatabase();

describe('tickets', () => {
  const insert = (columns: string[]) =>
    `INSERT INTO tickets (customer_id, team_id, subject${columns.map((c) => `, ${c}`).join('')})
     VALUES ($1, $2, $3${columns.map((_, i) => `, $${i + 4}`).join('')})`;
  const ticket = (columns: Record<string, unknown> = {}, subject = 'Where is my parcel?') =>
    [insert(Object.keys(columns)), [world.customerId, world.teamA, subject, ...Object.values(columns)]] as [
      string,
      unknown[]
    ];

  it('refuses a status, priority or channel outside their enums', async () => {
    await expectRejected('tickets', ...ticket({ status: 'archived' }), '22P02');
    await expectRejected('tickets', ...ticket({ priority: 'critical' }), '22P02');
    await expectRejected('tickets', ...ticket({ channel: 'fax' }), '22P02');
  });

  it('needs a subject of 1 to 200 characters', async () => {
    for (const subject of ['', '   ', 'x'.repeat(201)]) {
      await expectRejected('tickets', ...ticket({}, subject), '23514', 'tickets_subject_check');
    }
    await expect(db.sql.query(...ticket({}, 'x'.repeat(200)))).resolves.toBeTruthy();
  });

  it('needs resolved_at to be resolved or closed, and closed_at to be closed', async () => {
    await expectRejected('tickets', ...ticket({ status: 'resolved' }), '23514', 'tickets_resolved_has_time');
    await expectRejected(
      'tickets',
      ...ticket({ status: 'closed', resolved_at: new Date() }),
      '23514',
      'tickets_closed_has_time'
    );
    const id = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
    await expectRejected(
      'tickets',
      `UPDATE tickets SET status = 'resolved' WHERE id = $1`,
      [id],
      '23514',
      'tickets_resolved_has_time'
    );
    await db.sql.query(`UPDATE tickets SET status = 'resolved', resolved_at = now() WHERE id = $1`, [id]);
    await expectRejected(
      'tickets',
      `UPDATE tickets SET status = 'closed' WHERE id = $1`,
      [id],
      '23514',
      'tickets_closed_has_time'
    );
    await db.sql.query(`UPDATE tickets SET status = 'closed', closed_at = now() WHERE id = $1`, [id]);
    expect(await one(`SELECT status FROM tickets WHERE id = $1`, [id])).toEqual({ status: 'closed' });
  });

  it('keeps the CSAT score between 1 and 5 and always with its timestamp', async () => {
    await expectRejected(
      'tickets',
      ...ticket({ csat_score: 6, csat_at: new Date() }),
      '23514',
      'tickets_csat_score_check'
    );
    await expectRejected(
      'tickets',
      ...ticket({ csat_score: 0, csat_at: new Date() }),
      '23514',
      'tickets_csat_score_check'
    );
    await expectRejected('tickets', ...ticket({ csat_score: 5 }), '23514', 'tickets_csat_has_time');
    await expectRejected('tickets', ...ticket({ csat_at: new Date() }), '23514', 'tickets_csat_has_time');
    await expect(db.sql.query(...ticket({ csat_score: 5, csat_at: new Date() }))).resolves.toBeTruthy();
  });

  it('refuses a first response before the ticket was created', async () => {
    const anHourAgo = new Date(Date.now() - 3_600_000);
    await expectRejected(
      'tickets',
      ...ticket({ first_responded_at: anHourAgo }),
      '23514',
      'tickets_response_after_creation'
    );
  });

  it('keeps the version at 1 or more, never lowered, and bumped by any change (a psql UPDATE too)', async () => {
    await expectRejected('tickets', ...ticket({ version: 0 }), '23514', 'tickets_version_check');
    const id = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
    const version = async () => (await one(`SELECT version FROM tickets WHERE id = $1`, [id])).version;
    await db.sql.query(`UPDATE tickets SET version = version - 1 WHERE id = $1`, [id]);
    expect(await version()).toBe(1);
    await db.sql.query(`UPDATE tickets SET priority = 'high' WHERE id = $1`, [id]);
    expect(await version()).toBe(2);
    // The app's own bump and the trigger's are one bump.
    await db.sql.query(`UPDATE tickets SET priority = 'low', version = version + 1 WHERE id = $1`, [id]);
    expect(await version()).toBe(3);
    await db.sql.query(`UPDATE tickets SET priority = priority WHERE id = $1`, [id]);
    expect(await version()).toBe(3);
  });

  it('needs a team, and keeps a team that still has tickets', async () => {
    await expectRejected(
      'tickets',
      `INSERT INTO tickets (customer_id, subject) VALUES ($1, 'No team')`,
      [world.customerId],
      '23502'
    );
    const team = await createTeam(db.sql, unique('Ticket team '));
    await createTicket(db.sql, { customerId: world.customerId, teamId: team });
    await expectRejected(
      ['teams', 'tickets'],
      `DELETE FROM teams WHERE id = $1`,
      [team],
      '23503',
      'tickets_team_id_fkey'
    );
  });
});

describe('ticket_messages', () => {
  const insert = `INSERT INTO ticket_messages (ticket_id, author_type, author_user_id, body, internal) VALUES ($1, $2, $3, $4, $5)`;
  let ticketId: number;
  beforeAll(async () => {
    ticketId = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
  });

  it('refuses an internal note written by the customer', async () => {
    await expectRejected(
      'ticket_messages',
      insert,
      [ticketId, 'customer', null, 'psst', true],
      '23514',
      'ticket_messages_internal_not_customer'
    );
    await expect(
      db.sql.query(insert, [ticketId, 'agent', world.agentA.id, 'Customer is a VIP', true])
    ).resolves.toBeTruthy();
    await expect(
      db.sql.query(insert, [ticketId, 'system', null, 'SLA breached', true])
    ).resolves.toBeTruthy();
  });

  it('refuses a customer message attributed to a staff user', async () => {
    await expectRejected(
      'ticket_messages',
      insert,
      [ticketId, 'customer', world.agentA.id, 'Hello', false],
      '23514',
      'ticket_messages_customer_no_user'
    );
    await expect(db.sql.query(insert, [ticketId, 'customer', null, 'Hello', false])).resolves.toBeTruthy();
  });

  it('refuses an empty or blank body', async () => {
    for (const body of ['', '   ', '\n\t ']) {
      await expectRejected(
        'ticket_messages',
        insert,
        [ticketId, 'agent', world.agentA.id, body, false],
        '23514',
        'ticket_messages_body_check'
      );
    }
    await expectRejected(
      'ticket_messages',
      insert,
      [ticketId, 'agent', world.agentA.id, null, false],
      '23502'
    );
  });

  it('refuses an author type outside the enum', async () => {
    await expectRejected('ticket_messages', insert, [ticketId, 'bot', null, 'beep', false], '22P02');
  });
});
