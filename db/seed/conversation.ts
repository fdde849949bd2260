import type { TicketPriority } from '#shared/enums.js';
import type { Agent, SlaPolicy } from './types.js';
import { type Random, Weighted } from './random.js';
import { HOUR, MINUTE } from './sales-calendar.js';
import {
  AGENT_SIGN_OFFS,
  CUSTOMER_NUDGES,
  CUSTOMER_THANKS,
  GENERIC_NOTES,
  SYSTEM_MESSAGES,
  type SupportTopic
} from './vocabulary/support.js';

export type BacklogStatus = 'new' | 'open' | 'pending';

/** How fast a conversation moves, relative to a normal-priority one. */
const PACE: Record<TicketPriority, number> = { urgent: 0.15, high: 0.35, normal: 1, low: 1.4 };
const MESSAGE_COUNT = new Weighted([
  [2, 18],
  [3, 22],
  [4, 22],
  [5, 15],
  [6, 10],
  [7, 7],
  [8, 6]
] as const);

export interface MessageDraft {
  /** Seconds after the ticket was opened. */
  at: number;
  author: 'customer' | 'agent' | 'system';
  userId: number | null;
  body: string;
  internal: boolean;
}

export interface Conversation {
  messages: MessageDraft[];
  /** Offset of the first agent reply the customer saw. */
  firstResponse: number | null;
  /** Offset at which the ticket was resolved; null while it is open. */
  resolved: number | null;
  /** Offset of the "assigned" notice, when there is one. */
  assigned: number | null;
}

export interface ConversationInput {
  topic: SupportTopic;
  priority: TicketPriority;
  /** The SLA of that priority. */
  sla: SlaPolicy;
  assignee: Agent;
  teammates: Agent[];
  /** Text placeholders: first, agent, order, product, team, priority, sla. */
  vars: Record<string, string>;
}

/** Builds a conversation one message at a time on a running clock. */
class Writer {
  readonly messages: MessageDraft[] = [];
  clock = 0;
  firstResponse: number | null = null;
  assigned: number | null = null;

  constructor(
    private readonly rng: Random,
    private readonly input: ConversationInput
  ) {}

  customer(template: string): void {
    this.push('customer', null, template, false);
  }

  agent(template: string): void {
    if (this.firstResponse === null) this.firstResponse = this.clock;
    this.push('agent', this.author(), template + this.rng.pick(AGENT_SIGN_OFFS), false);
  }

  note(): void {
    const template = this.rng.chance(0.7)
      ? this.rng.pick(this.input.topic.notes)
      : this.rng.pick(GENERIC_NOTES);
    this.push('agent', this.author(), template, true);
  }

  system(template: string): void {
    if (template === SYSTEM_MESSAGES.assigned) this.assigned = this.clock;
    this.push('system', null, template, false);
  }

  wait(seconds: number): void {
    this.clock += Math.max(1, Math.round(seconds));
  }

  private author(): number {
    const { assignee, teammates } = this.input;
    return teammates.length > 1 && this.rng.chance(0.12) ? this.rng.pick(teammates).id : assignee.id;
  }

  private push(
    author: MessageDraft['author'],
    userId: number | null,
    template: string,
    internal: boolean
  ): void {
    this.messages.push({ at: this.clock, author, userId, body: fill(template, this.input.vars), internal });
  }
}

function firstResponseDelay(rng: Random, sla: SlaPolicy): number {
  return sla.firstResponse * (rng.chance(0.83) ? rng.between(0.05, 0.9) : rng.between(1.05, 3));
}

/** A finished conversation: the customer writes, agents answer (a few rounds), the ticket is resolved. */
export function resolvedConversation(rng: Random, input: ConversationInput): Conversation {
  const { topic, priority } = input;
  const pace = PACE[priority];
  const w = new Writer(rng, input);
  let slots = MESSAGE_COUNT.sample(rng) - 2;
  const take = (chance: boolean) => (slots > 0 && chance ? (slots--, true) : false);
  const assignedNotice = take(rng.chance(0.3));
  const escalation = take((priority === 'urgent' || priority === 'high') && rng.chance(0.35));
  const thanks = take(rng.chance(0.45));
  const note = take(rng.chance(0.3));
  const rounds = Math.floor(slots / 2);
  const nudge = slots % 2 === 1;

  w.customer(rng.pick(topic.openings));
  if (assignedNotice) {
    w.wait(rng.between(MINUTE, 20 * MINUTE));
    w.system(SYSTEM_MESSAGES.assigned);
  }
  if (escalation) {
    w.wait(rng.between(2 * MINUTE, 30 * MINUTE));
    w.system(SYSTEM_MESSAGES.escalated);
  }
  const firstReplyAt = Math.max(w.clock + MINUTE, firstResponseDelay(rng, input.sla));
  if (nudge) {
    w.wait((firstReplyAt - w.clock) * 0.6);
    w.customer(rng.pick(CUSTOMER_NUDGES));
  }
  w.wait(firstReplyAt - w.clock);
  for (let round = 0; round < rounds; round++) {
    w.agent(round === 0 && rng.chance(0.5) ? rng.pick(topic.asks) : rng.pick(topic.replies));
    w.wait(rng.between(0.3 * HOUR, 20 * HOUR) * pace);
    w.customer(rng.pick(topic.followUps));
    w.wait(rng.between(0.2 * HOUR, 6 * HOUR) * pace);
    if (note && round === rounds - 1) {
      w.note();
      w.wait(rng.between(2 * MINUTE, 30 * MINUTE));
    }
  }
  if (note && rounds === 0) {
    w.note();
    w.wait(rng.between(2 * MINUTE, 30 * MINUTE));
  }
  w.agent(rng.pick(topic.resolutions));
  if (thanks) {
    w.wait(rng.between(0.1 * HOUR, 10 * HOUR) * pace);
    w.customer(rng.pick(CUSTOMER_THANKS));
    w.wait(rng.between(2 * MINUTE, HOUR));
  } else {
    w.wait(rng.between(0, 15 * MINUTE));
  }
  return { messages: w.messages, firstResponse: w.firstResponse, resolved: w.clock, assigned: w.assigned };
}

/** A conversation still in the queue: unanswered (new), waiting for an agent (open) or for the customer (pending). */
export function openConversation(
  rng: Random,
  input: ConversationInput,
  status: BacklogStatus,
  assigned: boolean
): Conversation {
  const { topic, priority } = input;
  const pace = PACE[priority];
  const w = new Writer(rng, input);
  w.customer(rng.pick(topic.openings));
  if (status === 'new') {
    w.wait(rng.between(20, 90));
    w.system(SYSTEM_MESSAGES.autoAck);
    if (assigned && rng.chance(0.5)) {
      w.wait(rng.between(MINUTE, 30 * MINUTE));
      w.system(SYSTEM_MESSAGES.assigned);
    }
    if (rng.chance(0.35)) {
      w.wait(rng.between(2 * HOUR, 30 * HOUR));
      w.customer(rng.pick(CUSTOMER_NUDGES));
    }
    return { messages: w.messages, firstResponse: null, resolved: null, assigned: w.assigned };
  }
  if (assigned && rng.chance(0.4)) {
    w.wait(rng.between(MINUTE, 20 * MINUTE));
    w.system(SYSTEM_MESSAGES.assigned);
  }
  w.wait(Math.max(MINUTE, firstResponseDelay(rng, input.sla) - w.clock));
  if (status === 'open') {
    w.agent(rng.pick(topic.replies));
    if (rng.chance(0.25)) {
      w.wait(rng.between(2 * MINUTE, 30 * MINUTE));
      w.note();
    }
    w.wait(rng.between(0.3 * HOUR, 10 * HOUR) * pace);
    w.customer(rng.pick(topic.followUps));
  } else {
    w.agent(rng.pick(topic.asks));
    if (rng.chance(0.4)) {
      w.wait(rng.between(0.3 * HOUR, 12 * HOUR) * pace);
      w.customer(rng.pick(topic.followUps));
      w.wait(rng.between(0.2 * HOUR, 4 * HOUR) * pace);
      w.agent(rng.pick(topic.asks));
    }
  }
  return { messages: w.messages, firstResponse: w.firstResponse, resolved: null, assigned: w.assigned };
}

export function fill(template: string, vars: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => vars[key] ?? '');
}
