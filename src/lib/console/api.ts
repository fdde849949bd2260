import { api, ApiError, queryOf, unwrap } from '$lib/api.js';
import { peopleApi } from '$lib/people-api.js';
import { authed as call } from '$lib/session.svelte.js';
import type { AgentStatus } from '$shared/enums.js';
import type { OrderSummary } from '$shared/schemas/live.js';
import type {
  CannedResponse,
  MessageWithAuthor,
  QueuePage,
  QueueQuery,
  QueueTicket,
  ReplyBody,
  TicketDetail,
  TicketPatch
} from '$shared/schemas/tickets.js';

// The ticket console's calls, through the typed client; answers are the contract's shapes.

const id = (n: number) => ({ id: String(n) });

export interface CannedInput {
  title: string;
  body: string;
  teamId: number | null;
}

export const consoleApi = {
  queue: (query: QueueQuery, signal?: AbortSignal): Promise<QueuePage> =>
    call(unwrap(api.api.tickets.$get({ query: queryOf(query) }, { init: { signal } }))),
  ticket: (ticketId: number, signal?: AbortSignal): Promise<TicketDetail> =>
    call(unwrap(api.api.tickets[':id'].$get({ param: id(ticketId) }, { init: { signal } }))),
  patch: (ticketId: number, patch: TicketPatch): Promise<{ ticket: QueueTicket }> =>
    call(unwrap(api.api.tickets[':id'].$patch({ param: id(ticketId), json: patch }))),
  claim: (ticketId: number): Promise<{ ticket: QueueTicket }> =>
    call(unwrap(api.api.tickets[':id'].claim.$post({ param: id(ticketId) }))),
  reply: (ticketId: number, body: ReplyBody): Promise<{ message: MessageWithAuthor; ticket: QueueTicket }> =>
    call(unwrap(api.api.tickets[':id'].messages.$post({ param: id(ticketId), json: body }))),
  cannedResponses: (q: string, signal?: AbortSignal): Promise<{ responses: CannedResponse[] }> =>
    call(unwrap(api.api['canned-responses'].$get({ query: queryOf({ q: q.trim() }) }, { init: { signal } }))),
  createCanned: (body: CannedInput): Promise<{ response: CannedResponse }> =>
    call(unwrap(api.api['canned-responses'].$post({ json: body }))),
  updateCanned: (cannedId: number, body: CannedInput): Promise<{ response: CannedResponse }> =>
    call(unwrap(api.api['canned-responses'][':id'].$put({ param: id(cannedId), json: body }))),
  deleteCanned: (cannedId: number): Promise<{ ok: true }> =>
    call(unwrap(api.api['canned-responses'][':id'].$delete({ param: id(cannedId) }))),
  teams: peopleApi.teams,
  agents: peopleApi.agents,
  setMyStatus: (status: AgentStatus): Promise<{ status: AgentStatus }> =>
    call(unwrap(api.api.me.status.$put({ json: { status } }))),
  refundOrder: (orderId: number, ticketId: number): Promise<{ order: OrderSummary }> =>
    call(unwrap(api.api.orders[':id'].refund.$post({ param: id(orderId), json: { ticketId } }))),
  cancelOrder: (orderId: number, ticketId: number): Promise<{ order: OrderSummary }> =>
    call(unwrap(api.api.orders[':id'].cancel.$post({ param: id(orderId), json: { ticketId } })))
};

/** The fresh ticket a `stale_version` answer carries, when it carries one. */
export function staleTicketOf(err: unknown): QueueTicket | null {
  if (!(err instanceof ApiError) || err.code !== 'stale_version') return null;
  const ticket = (err.details as { ticket?: QueueTicket } | undefined)?.ticket;
  return ticket && typeof ticket.id === 'number' ? ticket : null;
}

/** Who made the change that won a race, when the server says so (`details.changedBy` or `details.assignee`). */
export function winnerOf(err: unknown): string | null {
  if (!(err instanceof ApiError)) return null;
  const details = err.details as
    { changedBy?: { name?: unknown }; assignee?: { name?: unknown } } | undefined;
  const name = details?.changedBy?.name ?? details?.assignee?.name;
  return typeof name === 'string' && name ? name : null;
}
