// npm run bench:api -- [--tickets 100000] [--runs 200]
//
// The ticket console's reads with a large support history: the queue's first page (per view),
// a search, the next page, and a ticket with its customer panel. Each is compared, in the same
// run, with GET /api/health (the cost of a signed-in round trip that does no work).
// Prints a table and writes bench-results/api.json.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../db/embedded.js';
import { migrateDatabase } from '../../db/migrate.js';
import { seedDemoData } from '../../db/seed/index.js';
import { DEMO_PASSWORD } from '../../db/seed/demo-users.js';
import { freePort } from '../support/global-setup.js';
import { Browser } from '../support/http.js';
import { startChildServer } from '../support/processes.js';
import { now, printTable, summarize } from './measure.js';

const { values } = parseArgs({ options: { tickets: { type: 'string', default: '100000' }, runs: { type: 'string', default: '200' } } });
const TICKETS = Number(values.tickets);
const RUNS = Number(values.runs);

async function main() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pulse-bench-api-'));
  const db = await startEmbeddedPostgres({ dir: path.join(dir, 'data'), port: await freePort() });
  const sql = new pg.Pool({ connectionString: db.url, max: 4 });
  try {
    await migrateDatabase(db.url);
    process.stdout.write('Seeding demo data (2,000 customers)...\n');
    await seedDemoData(db.url, { customers: 2000 });
    const existing = Number((await sql.query(`SELECT count(*) FROM tickets`)).rows[0].count);
    process.stdout.write(`Adding ${TICKETS - existing} tickets of history...\n`);
    const client = await sql.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL pulse.capture = 'off'`);
      // A realistic history: almost everything resolved or closed, a live backlog of ~3%.
      await client.query(
        `INSERT INTO tickets (customer_id, team_id, subject, status, priority, channel, created_at, resolved_at, closed_at, last_message_at, assignee_id)
         SELECT c.id, tm.id, 'Question about order ' || g, s.status::ticket_status,
                (ARRAY['low','normal','normal','high','urgent'])[1 + g % 5]::ticket_priority,
                (ARRAY['email','chat','web','phone','social'])[1 + g % 5]::ticket_channel,
                now() - make_interval(mins => (g * 7) % 500000),
                CASE WHEN s.status IN ('resolved', 'closed') THEN now() - make_interval(mins => (g * 7) % 500000) + interval '3 hours' END,
                CASE WHEN s.status = 'closed' THEN now() - make_interval(mins => (g * 7) % 500000) + interval '2 days' END,
                now() - make_interval(mins => (g * 7) % 500000),
                CASE WHEN g % 3 = 0 THEN NULL ELSE (SELECT u.id FROM users u WHERE u.team_id = tm.id AND u.role = 'agent' ORDER BY u.id OFFSET (g % 2) LIMIT 1) END
           FROM generate_series(1, $1::int) g
           JOIN LATERAL (SELECT id FROM customers ORDER BY id OFFSET (g % 2000) LIMIT 1) c ON true
           JOIN LATERAL (SELECT id FROM teams ORDER BY id OFFSET (g % 3) LIMIT 1) tm ON true
           CROSS JOIN LATERAL (SELECT CASE WHEN g % 33 = 0 THEN 'open' WHEN g % 97 = 0 THEN 'pending' WHEN g % 5 = 0 THEN 'closed' ELSE 'resolved' END AS status) s`,
        [Math.max(0, TICKETS - existing)]
      );
      await client.query('COMMIT');
      await client.query('ANALYZE');
    } finally {
      client.release();
    }
    const total = Number((await sql.query(`SELECT count(*) FROM tickets`)).rows[0].count);
    const open = Number((await sql.query(`SELECT count(*) FROM tickets WHERE status IN ('new','open','pending')`)).rows[0].count);

    const server = await startChildServer(db.url);
    try {
      const agent = new Browser(server.url);
      await agent.login('agent@pulse.demo', DEMO_PASSWORD);
      const manager = new Browser(server.url);
      await manager.login('manager@pulse.demo', DEMO_PASSWORD);
      const page1 = await agent.get('/api/tickets?view=team');
      const someTicket = page1.body.tickets[0].id as number;

      const cases: [string, Browser, string][] = [
        ['GET /api/health (floor)', agent, '/api/health'],
        ['queue: my team, first page', agent, '/api/tickets?view=team'],
        ['queue: mine, first page', agent, '/api/tickets?view=mine'],
        ['queue: unassigned, first page', agent, '/api/tickets?view=unassigned'],
        ['queue: all teams (manager)', manager, '/api/tickets?view=all'],
        ['queue: team, second page', agent, `/api/tickets?view=team&cursor=${page1.body.nextCursor}`],
        ['queue: search "order 12"', agent, '/api/tickets?view=team&q=order%2012'],
        ['queue: urgent + breached', agent, '/api/tickets?view=team&priority=urgent&sla=breached'],
        ['ticket + customer panel', agent, `/api/tickets/${someTicket}`]
      ];
      const rows: Record<string, string | number>[] = [];
      const json: Record<string, unknown> = { tickets: total, openTickets: open, runs: RUNS };
      for (const [name, who, url] of cases) {
        for (let i = 0; i < 10; i++) await who.get(url); // warm up
        const samples: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          const t0 = now();
          const res = await who.get(url);
          samples.push(now() - t0);
          if (res.status !== 200) throw new Error(`${name}: ${res.status} ${JSON.stringify(res.body)}`);
        }
        const s = summarize(samples);
        rows.push({ request: name, p50: s.p50, p95: s.p95, p99: s.p99, max: s.max });
        json[name] = s;
      }
      printTable(`Ticket console reads, ${total.toLocaleString()} tickets (${open.toLocaleString()} open), ${RUNS} requests each, ms`, rows);
      await mkdir('bench-results', { recursive: true });
      await writeFile('bench-results/api.json', JSON.stringify({ ...json, at: new Date().toISOString() }, null, 2));
      process.stdout.write('\nWrote bench-results/api.json\n');
    } finally {
      await server.stop();
    }
  } finally {
    await sql.end();
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : err}\n`);
    process.exit(1);
  }
);
