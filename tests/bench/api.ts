// npm run bench:api -- [--tickets 100000] [--runs 200]
//
// The ticket console's reads with a large support history: the queue's first page (per view),
// a search, the next page, and a ticket with its customer panel. Each is compared, in the same
// run, with GET /api/health (the cost of a signed-in round trip that does no work).
// Seeds a fresh embedded Postgres, or uses BENCH_DATABASE_URL (seeding the demo data only when
// it has no orders; the history is topped up to --tickets). Prints a table and writes
// bench-results/api.json.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { migrateDatabase } from '../../db/migrate.js';
import { seedDemoData } from '../../db/seed/index.js';
import { DEMO_PASSWORD } from '../../db/seed/demo-users.js';
import { Browser } from '../support/http.js';
import { startChildServer } from '../support/processes.js';
import { benchDatabase, printTable, timed, writeResults } from './measure.js';

const { values } = parseArgs({
  options: { tickets: { type: 'string', default: '100000' }, runs: { type: 'string', default: '200' } }
});
const TICKETS = Number(values.tickets);
const RUNS = Number(values.runs);

async function main() {
  const db = await benchDatabase({ prefix: 'pulse-bench-api-' });
  const sql = new pg.Pool({ connectionString: db.url, max: 4 });
  try {
    await migrateDatabase(db.url);
    const orders = Number((await sql.query(`SELECT count(*) FROM orders`)).rows[0].count);
    if (orders === 0) {
      process.stdout.write('Seeding demo data (2,000 customers)...\n');
      await seedDemoData(db.url, { customers: 2000 });
    } else {
      process.stdout.write(`Using the ${orders.toLocaleString('en')} orders already in the database.\n`);
    }
    const existing = Number((await sql.query(`SELECT count(*) FROM tickets`)).rows[0].count);
    process.stdout.write(`Adding ${Math.max(0, TICKETS - existing)} tickets of history...\n`);
    const client = await sql.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pause_capture()`);
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
    const open = Number(
      (await sql.query(`SELECT count(*) FROM tickets WHERE status IN ('new','open','pending')`)).rows[0].count
    );

    // One session sends every request: no per-session rate limit here.
    const server = await startChildServer(db.url, {}, { API_SESSION_RATE_PER_SECOND: '0' });
    try {
      const agent = await Browser.signedIn(server.url, 'agent@pulse.demo', DEMO_PASSWORD);
      const manager = await Browser.signedIn(server.url, 'manager@pulse.demo', DEMO_PASSWORD);
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
        const s = await timed(RUNS, () => who.getOk(url), 10);
        rows.push({ request: name, p50: s.p50, p95: s.p95, p99: s.p99, max: s.max });
        json[name] = s;
      }
      printTable(
        `Ticket console reads, ${total.toLocaleString()} tickets (${open.toLocaleString()} open), ${RUNS} requests each, ms`,
        rows
      );
      await writeResults('api', { ...json, at: new Date().toISOString() });
    } finally {
      await server.stop();
    }
  } finally {
    await sql.end();
    await db.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : err}\n`);
    process.exit(1);
  }
);
