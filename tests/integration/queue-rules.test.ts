import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPulse } from '../../server/pulse.js';
import { inQueue, type QueueFilterState } from '#shared/rules/queue.js';
import type { QueueView } from '#shared/schemas/tickets.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createWorld } from '../support/fixtures.js';
import { Browser } from '../support/http.js';
import { startTestServer } from '../support/server.js';

// One table of tickets and one list of queue views and filters, checked against both
// implementations of queue membership: the server's listQueue SQL and the console's inQueue(),
// which decides whether a live change enters or leaves the rows on screen.

let db: TestDatabase;
let server: RunningPulse;
let world: Awaited<ReturnType<typeof createWorld>>;

const HOUR = 3_600_000;
type Row = {
  status: string;
  priority: string;
  channel: string;
  tags: string[];
  assigned: 'agentA' | 'agentB' | null;
  team: 'A' | 'B';
  due?: number;
};

/** The fixture table: every status, priority and channel, tags, assignment and SLA clocks in every state. */
const TABLE: Row[] = [
  {
    status: 'new',
    priority: 'urgent',
    channel: 'email',
    tags: ['vip'],
    assigned: null,
    team: 'A',
    due: -HOUR
  },
  {
    status: 'open',
    priority: 'high',
    channel: 'chat',
    tags: [],
    assigned: 'agentA',
    team: 'A',
    due: 10 * 60_000
  },
  {
    status: 'pending',
    priority: 'normal',
    channel: 'phone',
    tags: ['refund', 'vip'],
    assigned: 'agentA',
    team: 'A',
    due: 48 * HOUR
  },
  { status: 'resolved', priority: 'low', channel: 'email', tags: ['refund'], assigned: 'agentA', team: 'A' },
  { status: 'closed', priority: 'normal', channel: 'web', tags: [], assigned: null, team: 'A' },
  {
    status: 'open',
    priority: 'normal',
    channel: 'web',
    tags: ['vip'],
    assigned: null,
    team: 'B',
    due: 48 * HOUR
  },
  {
    status: 'new',
    priority: 'low',
    channel: 'chat',
    tags: [],
    assigned: 'agentB',
    team: 'B',
    due: -2 * HOUR
  },
  { status: 'pending', priority: 'urgent', channel: 'email', tags: ['refund'], assigned: 'agentB', team: 'B' }
];

const none: QueueFilterState = { status: [], priority: [], channel: [], sla: [], tag: '', q: '' };
const CASES: { view: QueueView; filters: Partial<QueueFilterState> }[] = [
  { view: 'mine', filters: {} },
  { view: 'unassigned', filters: {} },
  { view: 'team', filters: {} },
  { view: 'team', filters: { status: ['resolved', 'closed'] } },
  { view: 'team', filters: { priority: ['urgent', 'high'] } },
  { view: 'team', filters: { channel: ['email', 'phone'] } },
  { view: 'team', filters: { tag: 'VIP ' } },
  { view: 'team', filters: { sla: ['breached'] } },
  { view: 'team', filters: { sla: ['at_risk'] } },
  { view: 'team', filters: { sla: ['ok'], status: ['new', 'open', 'pending', 'resolved'] } },
  { view: 'all', filters: {} },
  { view: 'all', filters: { status: ['pending'], tag: 'refund' } },
  { view: 'unassigned', filters: { priority: ['normal'] } }
];

const ids: number[] = [];
let tickets: any[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  await db.sql.query(`UPDATE teams SET auto_assign = false`);
  const teams = { A: world.teamA, B: world.teamB };
  const agents = { agentA: world.agentA.id, agentB: world.agentB.id };
  for (const r of TABLE) {
    const { rows } = await db.sql.query(
      `INSERT INTO tickets (customer_id, team_id, subject, status, priority, channel, tags, assignee_id, created_at, first_response_due_at, resolved_at, closed_at)
       VALUES ($1, $2, 'Fixture', $3::ticket_status, $4, $5, $6, $7, now() - interval '1 hour', $8,
               CASE WHEN $3::ticket_status IN ('resolved', 'closed') THEN now() END, CASE WHEN $3::ticket_status = 'closed' THEN now() END) RETURNING id`,
      [
        world.customerId,
        teams[r.team],
        r.status,
        r.priority,
        r.channel,
        r.tags,
        r.assigned ? agents[r.assigned] : null,
        r.due === undefined ? null : new Date(Date.now() + r.due)
      ]
    );
    ids.push(rows[0].id);
  }
  server = await startTestServer(db.url);
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

describe('queue membership, the server’s SQL and the console’s rule, over one table', () => {
  it.each([['agentA'], ['manager']] as const)('agree for %s on every view and filter', async (who) => {
    const browser = await Browser.signedIn(server.url, world[who].email);
    const me = (await browser.getOk('/api/auth/me')).user;
    const all = await Browser.signedIn(server.url, world.manager.email);
    tickets = await Promise.all(ids.map(async (id) => (await all.getOk(`/api/tickets/${id}`)).ticket));
    for (const c of CASES) {
      if (c.view === 'all' && who !== 'manager') continue;
      const filters = { ...none, ...c.filters };
      const query = new URLSearchParams({ view: c.view, limit: '100' });
      for (const key of ['status', 'priority', 'channel', 'sla'] as const)
        if (filters[key].length) query.set(key, filters[key].join(','));
      if (filters.tag) query.set('tag', filters.tag.trim().toLowerCase());
      const server = (await browser.getOk(`/api/tickets?${query}`)).tickets
        .map((t: { id: number }) => t.id)
        .filter((id: number) => ids.includes(id))
        .sort();
      const client = tickets
        .filter((t) => inQueue(t, { view: c.view, filters, user: me }))
        .map((t) => t.id)
        .sort();
      expect({ case: c, ids: server }).toEqual({ case: c, ids: client });
    }
  });
});
