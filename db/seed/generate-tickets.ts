import type { TicketPriority } from '#shared/enums.js';
import {
  type BacklogStatus,
  type Conversation,
  fill,
  openConversation,
  resolvedConversation
} from './conversation.js';
import { type Random, Weighted } from './random.js';
import { DAY, HOUR, MINUTE } from './sales-calendar.js';
import type { CustomerBatches } from './tables.js';
import type { CustomerProfile, OrderFacts, SeedContext } from './types.js';
import { raisePriority } from './vip.js';
import { TICKET_CHANNELS } from './vocabulary/channels.js';
import { type OrderMoment, SUPPORT_TOPICS, type SupportTopic } from './vocabulary/support.js';

/** Resolved tickets: per order, and per customer for questions that are not about an order. */
const ORDER_TICKET_CHANCE = 0.055;
const OTHER_TICKET_CHANCE = 0.1;
/** Orders this recent can have a ticket in the open backlog. */
const BACKLOG_HORIZON = 10 * DAY;

const PRIORITIES = new Weighted<TicketPriority>([
  ['low', 20],
  ['normal', 52],
  ['high', 20],
  ['urgent', 8]
]);
const BACKLOG_STATUS = new Weighted<BacklogStatus>([
  ['new', 30],
  ['open', 45],
  ['pending', 25]
]);
const CSAT_HAPPY = new Weighted([
  [1, 4],
  [2, 4],
  [3, 10],
  [4, 27],
  [5, 55]
] as const);
const CSAT_LATE = new Weighted([
  [1, 20],
  [2, 20],
  [3, 25],
  [4, 20],
  [5, 15]
] as const);
const OTHER_TOPICS = new Weighted(
  SUPPORT_TOPICS.filter((t) => t.about === null).map((t) => [t, t.weight] as const)
);
const ORDER_TOPICS = SUPPORT_TOPICS.filter((t) => t.about !== null);

interface TicketPlan {
  topic: SupportTopic;
  order: OrderFacts | null;
  createdAt: number;
  /** Set for tickets still in the queue. */
  backlog: BacklogStatus | null;
}

export function generateTickets(
  rng: Random,
  ctx: SeedContext,
  profile: CustomerProfile,
  orders: OrderFacts[],
  vip: boolean,
  batches: CustomerBatches
): void {
  const plans: TicketPlan[] = [];
  for (const order of orders) {
    if (rng.chance(ORDER_TICKET_CHANCE)) {
      const topic = pickOrderTopic(rng, order, 0);
      if (topic) {
        const createdAt = writesAt(rng, order, topic);
        if (createdAt < ctx.now - HOUR) plans.push({ topic, order, createdAt, backlog: null });
      }
    }
    if (lastMoment(order) > ctx.now - BACKLOG_HORIZON && rng.chance(ctx.backlogOrderChance)) {
      const topic = pickOrderTopic(rng, order, ctx.now - BACKLOG_HORIZON);
      if (topic) {
        const createdAt = Math.min(writesAt(rng, order, topic), ctx.now - rng.int(5 * MINUTE, 2 * HOUR));
        if (createdAt > momentOf(order, topic.about!)!)
          plans.push({ topic, order, createdAt, backlog: BACKLOG_STATUS.sample(rng) });
      }
    }
  }
  const from = Math.max(profile.createdAt, ctx.windowStart);
  if (from < ctx.now - 2 * HOUR && rng.chance(OTHER_TICKET_CHANCE)) {
    plans.push({
      topic: OTHER_TOPICS.sample(rng),
      order: null,
      createdAt: ctx.calendar.between(rng, from, ctx.now - HOUR),
      backlog: null
    });
  }
  if (rng.chance(ctx.backlogOtherChance)) {
    const age = Math.min(Math.max(rng.exponential(30 * HOUR), 5 * MINUTE), 6 * DAY);
    const createdAt = Math.max(Math.round(ctx.now - age), profile.createdAt + MINUTE);
    plans.push({
      topic: OTHER_TOPICS.sample(rng),
      order: null,
      createdAt,
      backlog: BACKLOG_STATUS.sample(rng)
    });
  }
  plans.sort((a, b) => a.createdAt - b.createdAt);
  for (const plan of plans) writeTicket(rng, ctx, profile, vip, plan, batches);
}

function momentOf(order: OrderFacts, about: OrderMoment): number | null {
  switch (about) {
    case 'ordered':
      return order.orderedAt;
    case 'shipped':
      return order.shippedAt;
    case 'delivered':
      return order.deliveredAt;
    case 'refunded':
      return order.refundedAt;
    case 'cancelled':
      return order.cancelledAt;
  }
}

function lastMoment(order: OrderFacts): number {
  return Math.max(
    order.orderedAt,
    order.shippedAt ?? 0,
    order.deliveredAt ?? 0,
    order.refundedAt ?? 0,
    order.cancelledAt ?? 0
  );
}

/** A topic that fits what has happened to the order (after `since`), weighted by how common it is. */
function pickOrderTopic(rng: Random, order: OrderFacts, since: number): SupportTopic | null {
  const fitting = ORDER_TOPICS.filter((topic) => (momentOf(order, topic.about!) ?? -1) >= since);
  if (fitting.length === 0) return null;
  return new Weighted(fitting.map((topic) => [topic, topic.weight] as const)).sample(rng);
}

function writesAt(rng: Random, order: OrderFacts, topic: SupportTopic): number {
  const [low, high] = topic.delayHours;
  return Math.max(
    order.orderedAt + MINUTE,
    momentOf(order, topic.about!)! + Math.round(rng.between(low, high) * HOUR)
  );
}

function writeTicket(
  rng: Random,
  ctx: SeedContext,
  profile: CustomerProfile,
  vip: boolean,
  plan: TicketPlan,
  batches: CustomerBatches
): void {
  const id = ctx.ids.ticket++;
  const { topic, order, backlog } = plan;
  // A VIP's ticket is raised the way the database's VIP trigger would raise it.
  const drawn = PRIORITIES.sample(rng);
  const priority = vip ? raisePriority(drawn, ctx.vipRule.minimumPriority) : drawn;
  const sla = ctx.sla[priority];
  const teammates = ctx.staff.agentsByTeam.get(topic.team)!;
  const assignee = rng.pick(teammates);
  const assigned =
    backlog === null || (backlog === 'new' ? rng.chance(0.3) : backlog === 'open' ? rng.chance(0.88) : true);
  const vars = {
    first: profile.firstName,
    agent: assignee.firstName,
    order: order?.externalId ?? '',
    product: order ? rng.pick(order.products).name : '',
    team: ctx.staff.teamNames.get(topic.team)!,
    priority,
    sla: `${sla.firstResponse / HOUR} hours`
  };
  const input = { topic, priority, sla, assignee, teammates, vars };
  const conversation = backlog
    ? openConversation(rng, input, backlog, assigned)
    : resolvedConversation(rng, input);
  const { createdAt, at } = fitBeforeNow(rng, ctx, plan, conversation);

  const messageTimes = conversation.messages.map((m) => at(m.at));
  conversation.messages.forEach((m, i) => {
    batches.ticketMessages.add({
      id: ctx.ids.ticketMessage++,
      ticket_id: id,
      author_type: m.author,
      author_user_id: m.userId,
      body: m.body,
      internal: m.internal,
      created_at: messageTimes[i]
    });
  });

  const firstResponseDue = createdAt + sla.firstResponse;
  const resolutionDue = createdAt + sla.resolution;
  const firstRespondedAt = conversation.firstResponse === null ? null : at(conversation.firstResponse);
  const resolvedAt = conversation.resolved === null ? null : at(conversation.resolved);
  const lastMessageAt = messageTimes[messageTimes.length - 1];
  let status: string = backlog ?? 'resolved';
  let closedAt: number | null = null;
  let csatScore: number | null = null;
  let csatAt: number | null = null;
  if (resolvedAt !== null) {
    const closesAt = resolvedAt + rng.int(2 * DAY, 5 * DAY);
    if (closesAt <= ctx.now && rng.chance(0.93)) {
      status = 'closed';
      closedAt = closesAt;
    }
    const answersAt = resolvedAt + rng.int(30 * MINUTE, 2 * DAY);
    if (rng.chance(0.4) && answersAt <= ctx.now) {
      const late = (firstRespondedAt ?? 0) > firstResponseDue || resolvedAt > resolutionDue;
      csatScore = (late ? CSAT_LATE : CSAT_HAPPY).sample(rng);
      csatAt = answersAt;
    }
  }
  const tags = [...topic.tags];
  if (vip) tags.push('vip');
  if (rng.chance(0.05)) tags.push('repeat-contact');

  batches.tickets.add({
    id,
    customer_id: profile.id,
    order_id: order?.id ?? null,
    subject: fill(rng.pick(topic.subjects), vars),
    status,
    priority,
    channel: TICKET_CHANNELS.sample(rng),
    assignee_id: assigned ? assignee.id : null,
    team_id: topic.team,
    tags,
    first_response_due_at: firstResponseDue,
    resolution_due_at: resolutionDue,
    first_responded_at: firstRespondedAt,
    resolved_at: resolvedAt,
    closed_at: closedAt,
    csat_score: csatScore,
    csat_at: csatAt,
    last_message_at: lastMessageAt,
    version:
      conversation.messages.length +
      (assigned ? 1 : 0) +
      (resolvedAt ? 1 : 0) +
      (closedAt ? 1 : 0) +
      (csatAt ? 1 : 0),
    created_at: createdAt,
    updated_at: Math.max(lastMessageAt, resolvedAt ?? 0, closedAt ?? 0, csatAt ?? 0),
    flagged: vip,
    assigned_at: assigned
      ? at(conversation.assigned ?? conversation.firstResponse ?? rng.int(MINUTE, 30 * MINUTE))
      : null
  });
}

/**
 * Nothing may happen after `now`: a conversation that would run past it is compressed (and, when
 * even that leaves too little time, a finished ticket starts earlier).
 */
function fitBeforeNow(rng: Random, ctx: SeedContext, plan: TicketPlan, conversation: Conversation) {
  const last = conversation.messages[conversation.messages.length - 1].at;
  const end = Math.max(conversation.resolved ?? 0, last, 1);
  const latest = ctx.now - (plan.backlog ? rng.int(MINUTE, 10 * MINUTE) : rng.int(5 * MINUTE, 2 * HOUR));
  let createdAt = plan.createdAt;
  let scale = 1;
  if (createdAt + end > latest) {
    const shortest = Math.min(end, 2 * HOUR);
    if (!plan.backlog && latest - createdAt < shortest) createdAt = latest - shortest;
    scale = Math.max(0, latest - createdAt) / end;
  }
  return { createdAt, at: (offset: number) => createdAt + Math.round(offset * scale) };
}
