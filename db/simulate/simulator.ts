import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { firstNameOf } from '../seed/context.js';
import { fill } from '../seed/conversation.js';
import { earnKey, pointsEarned, VOUCHERS, voucherFor, voucherReason } from '../seed/loyalty-rules.js';
import { Random, Weighted } from '../seed/random.js';
import type { Agent } from '../seed/types.js';
import { ORDER_CHANNELS, TICKET_CHANNELS } from '../seed/vocabulary/channels.js';
import { EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES } from '../seed/vocabulary/people.js';
import { SUPPORT_TOPICS, type SupportTopic } from '../seed/vocabulary/support.js';

// Business activity written straight into Postgres, the way outside systems would: a shop
// taking orders, a warehouse shipping them, customers writing in, agents answering. Each event is
// one transaction that respects every rule the database enforces (statuses, ledger reversals,
// the balance check, the ticket CHECKs), so the change log, the wallboard and the console move
// exactly as they would in production.

export const EVENT_KINDS = [
  'order_placed',
  'order_paid',
  'order_fulfilled',
  'order_shipped',
  'order_delivered',
  'order_refunded',
  'order_cancelled',
  'ticket_opened',
  'ticket_answered',
  'customer_replied',
  'ticket_resolved',
  'ticket_closed',
  'csat_recorded',
  'points_redeemed',
  'member_joined',
  'agent_status_changed'
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

const WEIGHTS: Record<EventKind, number> = {
  order_placed: 26,
  order_paid: 14,
  order_fulfilled: 9,
  order_shipped: 9,
  order_delivered: 9,
  order_refunded: 1.5,
  order_cancelled: 1.5,
  ticket_opened: 7,
  ticket_answered: 8,
  customer_replied: 3,
  ticket_resolved: 5,
  ticket_closed: 1.5,
  csat_recorded: 2.5,
  points_redeemed: 1.5,
  member_joined: 1.5,
  agent_status_changed: 0.5
};

const CSAT = new Weighted([
  [1, 5],
  [2, 5],
  [3, 12],
  [4, 28],
  [5, 50]
] as const);
const AGENT_STATUS = new Weighted([
  ['online', 60],
  ['busy', 25],
  ['away', 15]
] as const);

interface Reference {
  customerIds: { min: number; max: number };
  products: { id: number; priceCents: number }[];
  /** Team ids in id order: a topic's 1-based team index maps onto them. */
  teams: number[];
  agents: Agent[];
}

export class NothingToSimulateError extends Error {}

/** A unit of work that may find nothing to do (no pending order to pay): then it returns false. */
type Work = (client: pg.PoolClient) => Promise<boolean>;

export class Simulator {
  readonly counts = Object.fromEntries(EVENT_KINDS.map((k) => [k, 0])) as Record<EventKind, number>;
  errors = 0;
  lastError: string | null = null;
  private readonly kinds = new Weighted(EVENT_KINDS.map((k) => [k, WEIGHTS[k]] as const));

  private constructor(
    private readonly pool: pg.Pool,
    private readonly rng: Random,
    private readonly ref: Reference
  ) {}

  static async create(pool: pg.Pool, seed: number): Promise<Simulator> {
    const [customers, products, teams, agents] = await Promise.all([
      pool.query<{ min: number | null; max: number | null }>(
        `SELECT min(id) AS min, max(id) AS max FROM customers`
      ),
      pool.query<{ id: number; price: string }>(
        `SELECT id, price::text FROM products WHERE active AND price > 0 ORDER BY id`
      ),
      pool.query<{ id: number }>(`SELECT id FROM teams ORDER BY id`),
      pool.query<{ id: number; team_id: number; name: string }>(
        `SELECT id, team_id, name FROM users WHERE role = 'agent' AND active ORDER BY id`
      )
    ]);
    const missing = [
      customers.rows[0].min === null && 'customers',
      products.rows.length === 0 && 'active products',
      teams.rows.length === 0 && 'teams',
      agents.rows.length === 0 && 'active agents'
    ].filter(Boolean);
    if (missing.length > 0) {
      throw new NothingToSimulateError(
        `The database has no ${missing.join(', ')}. Simulate on a database with the demo data (npm start seeds one; or npm run db:seed).`
      );
    }
    return new Simulator(pool, new Random(seed), {
      customerIds: { min: customers.rows[0].min!, max: customers.rows[0].max! },
      products: products.rows.map((p) => ({ id: p.id, priceCents: Math.round(Number(p.price) * 100) })),
      teams: teams.rows.map((t) => t.id),
      agents: agents.rows.map((a) => ({ id: a.id, teamId: a.team_id, firstName: firstNameOf(a.name) }))
    });
  }

  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  /** One event: a weighted pick; when it finds nothing to act on, an order is placed instead. */
  async step(): Promise<EventKind> {
    const kind = this.kinds.sample(this.rng);
    try {
      const done = await this.run(kind);
      const happened = done ? kind : (await this.run('order_placed'), 'order_placed');
      this.counts[happened]++;
      return happened;
    } catch (err) {
      this.errors++;
      this.lastError = `${kind}: ${(err as Error).message}`;
      throw err;
    }
  }

  private async run(kind: EventKind): Promise<boolean> {
    const work = this.work[kind];
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const done = await work(client);
      await client.query(done ? 'COMMIT' : 'ROLLBACK');
      return done;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  // Helpers ----------------------------------------------------------------------------------

  /** A customer from a random point of the id range; the lowest id when none is at or after it. */
  private async someCustomer(client: pg.PoolClient): Promise<{ id: number; first_name: string }> {
    const from = this.rng.int(this.ref.customerIds.min, this.ref.customerIds.max);
    const { rows } = await client.query<{ id: number; first_name: string }>(
      `SELECT id, first_name FROM customers WHERE id >= $1 ORDER BY id LIMIT 1`,
      [from]
    );
    if (rows[0]) return rows[0];
    const { rows: lowest } = await client.query<{ id: number; first_name: string }>(
      `SELECT id, first_name FROM customers WHERE id = $1`,
      [this.ref.customerIds.min]
    );
    return lowest[0] ?? { id: this.ref.customerIds.min, first_name: '' };
  }

  private async newCustomer(client: pg.PoolClient): Promise<number> {
    const first = this.rng.pick(FIRST_NAMES);
    const last = this.rng.pick(LAST_NAMES);
    const email =
      `${first}.${last}.${randomUUID().slice(0, 8)}@${this.rng.pick(EMAIL_DOMAINS)}`.toLowerCase();
    const { rows } = await client.query<{ id: number }>(
      `INSERT INTO customers (email, first_name, last_name, attributes) VALUES ($1, $2, $3, '{"source": "simulator"}') RETURNING id`,
      [email, first, last]
    );
    return rows[0].id;
  }

  /** A recent order in one of `statuses`, locked; null when there is none. */
  private async recentOrder(client: pg.PoolClient, statuses: string[]) {
    const { rows } = await client.query<{ id: number }>(
      `SELECT id FROM orders WHERE status = ANY($1::order_status[]) ORDER BY order_date DESC LIMIT 40`,
      [statuses]
    );
    if (rows.length === 0) return null;
    const { rows: locked } = await client.query<{
      id: number;
      customer_id: number;
      total: string;
      status: string;
      external_id: string | null;
    }>(
      `SELECT id, customer_id, total::text, status, external_id FROM orders WHERE id = $1 AND status = ANY($2::order_status[]) FOR UPDATE SKIP LOCKED`,
      [this.rng.pick(rows).id, statuses]
    );
    return locked[0] ?? null;
  }

  private async setOrderStatus(
    client: pg.PoolClient,
    from: string[],
    to: string
  ): Promise<{ id: number; customer_id: number; total: string } | null> {
    const order = await this.recentOrder(client, from);
    if (!order) return null;
    await client.query(`UPDATE orders SET status = $2::order_status WHERE id = $1`, [order.id, to]);
    return order;
  }

  /** Takes back what an order moved in the ledger, as the app's refund does (loyalty_reverse_order). */
  private async reverseLoyalty(client: pg.PoolClient, orderId: number) {
    await client.query(`SELECT loyalty_reverse_order($1)`, [orderId]);
  }

  /** Spends `voucher` points of a (locked) account; `orderId` when paid at an order's checkout. */
  private async redeem(
    client: pg.PoolClient,
    accountId: number,
    voucher: number,
    orderId: number | null,
    idempotencyKey: string
  ) {
    await client.query(
      `INSERT INTO loyalty_ledger (account_id, kind, points, reason, order_id, idempotency_key) VALUES ($1, 'redeem', $2, $3, $4, $5)`,
      [accountId, -voucher, voucherReason(voucher), orderId, idempotencyKey]
    );
  }

  /** The agent a ticket is assigned to; a teammate when it has none. */
  private assigneeOf(ticket: { assignee_id: number | null; team_id: number }) {
    return this.ref.agents.find((a) => a.id === ticket.assignee_id) ?? this.agentOf(ticket.team_id);
  }

  private topic(): SupportTopic {
    return this.rng.pick(SUPPORT_TOPICS);
  }

  private teamOf(topic: SupportTopic): number {
    return this.ref.teams[(topic.team - 1) % this.ref.teams.length];
  }

  private agentOf(teamId: number) {
    const team = this.ref.agents.filter((a) => a.teamId === teamId);
    return this.rng.pick(team.length > 0 ? team : this.ref.agents);
  }

  /** A recent ticket matching `where` (over `t`), locked. */
  private async recentTicket(client: pg.PoolClient, where: string) {
    const { rows } = await client.query<{ id: number }>(
      `SELECT t.id FROM tickets t WHERE ${where} ORDER BY t.created_at DESC LIMIT 40`
    );
    if (rows.length === 0) return null;
    const { rows: locked } = await client.query<{
      id: number;
      team_id: number;
      assignee_id: number | null;
      customer_id: number;
      status: string;
      subject: string;
      first_name: string;
    }>(
      `SELECT t.id, t.team_id, t.assignee_id, t.customer_id, t.status, t.subject, c.first_name
         FROM tickets t JOIN customers c ON c.id = t.customer_id WHERE t.id = $1 AND ${where} FOR UPDATE OF t SKIP LOCKED`,
      [this.rng.pick(rows).id]
    );
    return locked[0] ?? null;
  }

  // The events ---------------------------------------------------------------------------------

  private readonly work: Record<EventKind, Work> = {
    order_placed: async (client) => {
      const customerId = this.rng.chance(0.08)
        ? await this.newCustomer(client)
        : (await this.someCustomer(client)).id;
      const lines = new Map<number, { quantity: number; unitCents: number }>();
      for (let i = this.rng.int(1, 3); i > 0; i--) {
        const product = this.rng.pick(this.ref.products);
        lines.set(product.id, { quantity: this.rng.chance(0.85) ? 1 : 2, unitCents: product.priceCents });
      }
      const totalCents = [...lines.values()].reduce((sum, l) => sum + l.quantity * l.unitCents, 0);
      const { rows } = await client.query<{ id: number }>(
        `INSERT INTO orders (customer_id, total, channel, external_id, attributes)
         VALUES ($1, $2::numeric / 100, $3, $4, '{"source": "simulator"}') RETURNING id`,
        [customerId, totalCents, ORDER_CHANNELS.sample(this.rng), `SIM-${randomUUID()}`]
      );
      const orderId = rows[0].id;
      await client.query(
        `INSERT INTO order_items (order_id, product_id, quantity, unit_price)
         SELECT $1, p, q, c::numeric / 100 FROM unnest($2::int[], $3::int[], $4::bigint[]) AS x(p, q, c)`,
        [
          orderId,
          [...lines.keys()],
          [...lines.values()].map((l) => l.quantity),
          [...lines.values()].map((l) => l.unitCents)
        ]
      );
      // Now and then a member pays part with a voucher, from available points (not pending ones).
      if (this.rng.chance(0.06)) {
        const { rows: acc } = await client.query<{ id: number; balance: number }>(
          `SELECT id, balance - pending AS balance FROM loyalty_accounts WHERE customer_id = $1 FOR UPDATE`,
          [customerId]
        );
        const voucher = acc[0] && voucherFor(acc[0].balance);
        if (voucher) await this.redeem(client, acc[0].id, voucher, orderId, `order:${orderId}:redeem`);
      }
      return true;
    },
    order_paid: async (client) => {
      const order = await this.recentOrder(client, ['pending']);
      if (!order) return false;
      // Paying takes the goods off the shelf, and a sale beyond the stock is refused: the
      // warehouse receives what the order lacks first (a restock the product page shows live).
      await client.query(
        `INSERT INTO stock_movements (product_id, kind, quantity, reason)
         SELECT p.id, 'receive', i.quantity - p.stock + 20 + ($2::int % 60), 'Supplier delivery'
           FROM (SELECT product_id, sum(quantity)::int AS quantity FROM order_items WHERE order_id = $1 GROUP BY product_id) i
           JOIN products p ON p.id = i.product_id
          WHERE p.stock < i.quantity
          ORDER BY p.id`,
        [order.id, this.rng.int(0, 1000)]
      );
      await client.query(`UPDATE orders SET status = 'paid' WHERE id = $1`, [order.id]);
      return true;
    },
    order_fulfilled: async (client) => !!(await this.setOrderStatus(client, ['paid'], 'fulfilled')),
    order_shipped: async (client) => {
      const order = await this.setOrderStatus(client, ['fulfilled'], 'shipped');
      if (!order) return false;
      // Points when an order ships (the seed's rule), once per order.
      const points = pointsEarned(Math.round(Number(order.total) * 100));
      if (points > 0) {
        await client.query(
          `INSERT INTO loyalty_ledger (account_id, kind, points, reason, order_id, idempotency_key)
           SELECT a.id, 'earn', $2, $3, $4, $5 FROM loyalty_accounts a WHERE a.customer_id = $1
           ON CONFLICT (idempotency_key) DO NOTHING`,
          [order.customer_id, points, `Earned on order #${order.id}`, order.id, earnKey(order.id)]
        );
      }
      return true;
    },
    order_delivered: async (client) => !!(await this.setOrderStatus(client, ['shipped'], 'delivered')),
    order_refunded: async (client) => {
      const order = await this.setOrderStatus(client, ['shipped', 'delivered'], 'refunded');
      if (!order) return false;
      await this.reverseLoyalty(client, order.id);
      return true;
    },
    order_cancelled: async (client) => {
      const order = await this.setOrderStatus(client, ['pending', 'paid'], 'cancelled');
      if (!order) return false;
      await this.reverseLoyalty(client, order.id);
      return true;
    },
    ticket_opened: async (client) => {
      const customer = await this.someCustomer(client);
      const topic = this.topic();
      // A ticket about an order is about the customer's latest one.
      const order = topic.about
        ? (
            await client.query<{ id: number; external_id: string | null }>(
              `SELECT id, external_id FROM orders WHERE customer_id = $1 ORDER BY order_date DESC LIMIT 1`,
              [customer.id]
            )
          ).rows[0]
        : undefined;
      const vars = {
        first: customer.first_name,
        order: order?.external_id ?? (order ? `#${order.id}` : 'my order'),
        product: 'item'
      };
      const { rows } = await client.query<{ id: number }>(
        `INSERT INTO tickets (customer_id, team_id, order_id, subject, channel, tags) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
        [
          customer.id,
          this.teamOf(topic),
          order?.id ?? null,
          fill(this.rng.pick(topic.subjects), vars).slice(0, 200),
          TICKET_CHANNELS.sample(this.rng),
          [...topic.tags]
        ]
      );
      await client.query(
        `INSERT INTO ticket_messages (ticket_id, author_type, body) VALUES ($1, 'customer', $2)`,
        [rows[0].id, fill(this.rng.pick(topic.openings), vars)]
      );
      return true;
    },
    ticket_answered: async (client) => {
      const ticket = await this.recentTicket(client, `t.status IN ('new', 'open')`);
      if (!ticket) return false;
      const agent = this.assigneeOf(ticket);
      const topic = this.topic();
      const asks = this.rng.chance(0.35);
      await client.query(
        `INSERT INTO ticket_messages (ticket_id, author_type, author_user_id, body) VALUES ($1, 'agent', $2, $3)`,
        [
          ticket.id,
          agent.id,
          fill(this.rng.pick(asks ? topic.asks : topic.replies), {
            first: ticket.first_name,
            agent: agent.firstName,
            order: 'your order',
            product: 'item'
          })
        ]
      );
      await client.query(
        `UPDATE tickets SET first_responded_at = coalesce(first_responded_at, greatest(now(), created_at)), last_message_at = now(),
                assignee_id = coalesce(assignee_id, $2), status = $3::ticket_status, version = version + 1
          WHERE id = $1`,
        [ticket.id, agent.id, asks ? 'pending' : 'open']
      );
      return true;
    },
    customer_replied: async (client) => {
      const ticket = await this.recentTicket(client, `t.status = 'pending'`);
      if (!ticket) return false;
      await client.query(
        `INSERT INTO ticket_messages (ticket_id, author_type, body) VALUES ($1, 'customer', $2)`,
        [
          ticket.id,
          fill(this.rng.pick(this.topic().followUps), {
            first: ticket.first_name,
            order: 'my order',
            product: 'item'
          })
        ]
      );
      await client.query(
        `UPDATE tickets SET status = 'open', last_message_at = now(), version = version + 1 WHERE id = $1`,
        [ticket.id]
      );
      return true;
    },
    ticket_resolved: async (client) => {
      const ticket = await this.recentTicket(
        client,
        `t.status IN ('open', 'pending') AND t.first_responded_at IS NOT NULL`
      );
      if (!ticket) return false;
      const agent = this.assigneeOf(ticket);
      await client.query(
        `INSERT INTO ticket_messages (ticket_id, author_type, author_user_id, body) VALUES ($1, 'agent', $2, $3)`,
        [
          ticket.id,
          agent.id,
          fill(this.rng.pick(this.topic().resolutions), {
            first: ticket.first_name,
            agent: agent.firstName,
            order: 'your order',
            product: 'item'
          })
        ]
      );
      await client.query(
        `UPDATE tickets SET status = 'resolved', resolved_at = greatest(now(), created_at), closed_at = NULL, last_message_at = now(),
                assignee_id = coalesce(assignee_id, $2), version = version + 1
          WHERE id = $1`,
        [ticket.id, agent.id]
      );
      return true;
    },
    ticket_closed: async (client) => {
      const ticket = await this.recentTicket(
        client,
        `t.status = 'resolved' AND t.resolved_at < now() - interval '1 minute'`
      );
      if (!ticket) return false;
      await client.query(
        `UPDATE tickets SET status = 'closed', closed_at = now(), version = version + 1 WHERE id = $1`,
        [ticket.id]
      );
      return true;
    },
    csat_recorded: async (client) => {
      const ticket = await this.recentTicket(
        client,
        `t.status IN ('resolved', 'closed') AND t.csat_score IS NULL`
      );
      if (!ticket) return false;
      await client.query(
        `UPDATE tickets SET csat_score = $2, csat_at = now(), version = version + 1 WHERE id = $1`,
        [ticket.id, CSAT.sample(this.rng)]
      );
      return true;
    },
    points_redeemed: async (client) => {
      const from = this.rng.int(this.ref.customerIds.min, this.ref.customerIds.max);
      const { rows } = await client.query<{ id: number; balance: number }>(
        `SELECT id, balance - pending AS balance FROM loyalty_accounts WHERE customer_id >= $1 AND balance - pending >= $2 ORDER BY customer_id LIMIT 1 FOR UPDATE SKIP LOCKED`,
        [from, VOUCHERS.at(-1)]
      );
      const account = rows[0];
      if (!account) return false;
      await this.redeem(
        client,
        account.id,
        voucherFor(account.balance)!,
        null,
        `account:${account.id}:redeem:sim-${randomUUID()}`
      );
      return true;
    },
    member_joined: async (client) => {
      const from = this.rng.int(this.ref.customerIds.min, this.ref.customerIds.max);
      const { rows } = await client.query<{ id: number }>(
        `INSERT INTO loyalty_accounts (customer_id)
         SELECT c.id FROM customers c
          WHERE c.id >= $1 AND NOT EXISTS (SELECT 1 FROM loyalty_accounts a WHERE a.customer_id = c.id)
          ORDER BY c.id LIMIT 1
         ON CONFLICT (customer_id) DO NOTHING RETURNING id`,
        [from]
      );
      return rows.length > 0;
    },
    agent_status_changed: async (client) => {
      const agent = this.rng.pick(this.ref.agents);
      const { rowCount } = await client.query(
        `UPDATE users SET status = $2::agent_status WHERE id = $1 AND status <> $2::agent_status`,
        [agent.id, AGENT_STATUS.sample(this.rng)]
      );
      return (rowCount ?? 0) > 0;
    }
  };
}
