import { OPEN_TICKET_STATUSES as OPEN_WORK } from '$shared/rules/tickets.js';
import { isManagerRole } from '$shared/rules/people.js';
import { ApiError, messageOf } from '$lib/api.js';
import { isNewer, liveClient } from '$lib/live/live-client.js';
import { VersionLedger } from '$lib/live/versions.js';
import { inQueue } from '$shared/rules/queue.js';
import {
  TICKET_CHANNELS,
  TICKET_PRIORITIES,
  TICKET_STATUSES,
  type TicketChannel,
  type TicketPriority,
  type TicketStatus
} from '$shared/enums.js';
import type { CurrentUser } from '$shared/schemas/auth.js';
import type { TicketMessage, TicketSummary } from '$shared/schemas/live.js';
import {
  QUEUE_VIEWS,
  SLA_STATES,
  type QueueCounts,
  type QueueQuery,
  type QueueTicket,
  type QueueView,
  type SlaState
} from '$shared/schemas/tickets.js';
import { SvelteMap } from 'svelte/reactivity';
import { consoleApi } from './api.js';
import { personFor } from './people.js';
import { compareByUrgency } from './sla.js';

export interface QueueFilters {
  status: TicketStatus[];
  priority: TicketPriority[];
  channel: TicketChannel[];
  sla: SlaState[];
  tag: string;
  q: string;
}

/** The statuses the queue shows unless told otherwise: work still to do. */

export const defaultFilters = (): QueueFilters => ({
  status: [...OPEN_WORK],
  priority: [],
  channel: [],
  sla: [],
  tag: '',
  q: ''
});

const PAGE_SIZE = 50;
/** More unknown tickets than this arriving at once: reload the page instead of fetching each. */
const MAX_ROW_FETCHES = 8;

function sameSet<T>(a: readonly T[], b: readonly T[]) {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/**
 * The ticket queue: one view (mine, unassigned, team, all) with filters, kept current from the
 * live stream. Rows change in place and new tickets slot in by urgency; rows are not re-sorted
 * under the agent's cursor. Lives as long as the console (it keeps listening while a ticket is open).
 */
export class Queue {
  view = $state<QueueView>('mine');
  filters = $state<QueueFilters>(defaultFilters());
  tickets = $state<QueueTicket[]>([]);
  counts = $state<QueueCounts | null>(null);
  nextCursor = $state<string | null>(null);
  /** First load not answered yet. */
  loading = $state(true);
  /** A reload (view or filter change) is under way while the old rows stay on screen. */
  refreshing = $state(false);
  loadingMore = $state(false);
  error = $state<string | null>(null);
  selectedId = $state<number | null>(null);
  /** Ticket id -> a counter bumped each time a live change touches the row (drives its highlight). */
  flashes = new SvelteMap<number, number>();

  readonly selectedIndex = $derived(this.tickets.findIndex((t) => t.id === this.selectedId));
  readonly selected = $derived(this.selectedIndex >= 0 ? this.tickets[this.selectedIndex] : null);
  /** How many filters differ from the default (for the "Clear" button). */
  readonly activeFilters = $derived(
    (sameSet(this.filters.status, OPEN_WORK) ? 0 : 1) +
      (this.filters.priority.length ? 1 : 0) +
      (this.filters.channel.length ? 1 : 0) +
      (this.filters.sla.length ? 1 : 0) +
      (this.filters.tag ? 1 : 0) +
      (this.filters.q.trim() ? 1 : 0)
  );

  readonly user: CurrentUser;
  #request = 0;
  #abort: AbortController | null = null;
  #countsTimer: ReturnType<typeof setTimeout> | undefined;
  #reloadTimer: ReturnType<typeof setTimeout> | undefined;
  #fetching = new Set<number>();
  /** The newest version of each ticket the live stream brought, so an older REST answer cannot undo it. */
  #versions = new VersionLedger();
  /** Rows on screen may be out of date (never loaded, or loaded before the live stream was followed). */
  #stale = true;

  constructor(user: CurrentUser) {
    this.user = user;
    this.view = this.defaultView;
  }

  /** Agents start from their own tickets; managers from everything. */
  get defaultView(): QueueView {
    return isManagerRole(this.user.role) ? 'all' : 'mine';
  }

  query(cursor?: string, limit = PAGE_SIZE): QueueQuery {
    const f = this.filters;
    return {
      view: this.view,
      status: f.status.join(',') || undefined,
      priority: f.priority.join(',') || undefined,
      channel: f.channel.join(',') || undefined,
      sla: f.sla.join(',') || undefined,
      tag: f.tag.trim().toLowerCase() || undefined,
      q: f.q.trim() || undefined,
      cursor,
      limit
    };
  }

  setView(view: QueueView) {
    if (view === this.view) return;
    this.view = view;
    void this.load();
  }

  setFilters(patch: Partial<QueueFilters>) {
    this.filters = { ...this.filters, ...patch };
    void this.load();
  }

  resetFilters() {
    this.filters = defaultFilters();
    void this.load();
  }

  /**
   * Loads the first page for the current view and filters; the old rows stay until it answers.
   * False when it failed (a newer load superseding it counts as done).
   */
  async load(): Promise<boolean> {
    this.#stale = false;
    const request = ++this.#request;
    this.#abort?.abort();
    const abort = (this.#abort = new AbortController());
    this.refreshing = !this.loading;
    try {
      const page = await consoleApi.queue(this.query(), abort.signal);
      if (request !== this.#request) return true;
      // A row the stream changed after the page was read keeps the stream's state, or stays gone.
      const shown = new Map(this.tickets.map((t) => [t.id, t]));
      this.tickets = page.tickets.flatMap((row) => {
        if (this.#versions.current(row)) return [row];
        const mine = shown.get(row.id);
        return mine ? [mine] : [];
      });
      this.counts = page.counts;
      this.nextCursor = page.nextCursor;
      this.error = null;
      if (this.selectedId === null || !page.tickets.some((t) => t.id === this.selectedId)) {
        this.selectedId = page.tickets[0]?.id ?? null;
      }
      return true;
    } catch (err) {
      if (request !== this.#request || (err instanceof DOMException && err.name === 'AbortError'))
        return true;
      this.error = messageOf(err, 'The queue could not be loaded.');
      return false;
    } finally {
      if (request === this.#request) {
        this.loading = false;
        this.refreshing = false;
      }
    }
  }

  /** Loads unless the rows on screen are current (coming back from a ticket keeps the list as it is). */
  ensureLoaded() {
    if (this.#stale) void this.load();
  }

  async loadMore() {
    if (!this.nextCursor || this.loadingMore) return;
    const request = this.#request;
    this.loadingMore = true;
    try {
      const page = await consoleApi.queue(this.query(this.nextCursor));
      if (request !== this.#request) return;
      const known = new Set(this.tickets.map((t) => t.id));
      this.tickets.push(...page.tickets.filter((t) => !known.has(t.id)));
      this.nextCursor = page.nextCursor;
      this.counts = page.counts;
    } catch (err) {
      if (err instanceof ApiError) this.error = err.message;
    } finally {
      this.loadingMore = false;
    }
  }

  select(id: number | null) {
    this.selectedId = id;
  }

  /** Moves the selection by `delta` rows; returns the newly selected ticket. */
  move(delta: number): QueueTicket | null {
    if (this.tickets.length === 0) return null;
    const from = this.selectedIndex < 0 ? (delta > 0 ? -1 : this.tickets.length) : this.selectedIndex;
    const index = Math.min(this.tickets.length - 1, Math.max(0, from + delta));
    this.selectedId = this.tickets[index].id;
    if (index >= this.tickets.length - 5) void this.loadMore();
    return this.tickets[index];
  }

  /** The ticket after / before `id` in the queue (for "next ticket" from the ticket screen). */
  neighbour(id: number, delta: 1 | -1): QueueTicket | null {
    const index = this.tickets.findIndex((t) => t.id === id);
    if (index < 0) return delta > 0 ? (this.tickets[0] ?? null) : null;
    return this.tickets[index + delta] ?? null;
  }

  /** Applies a ticket the API answered with (after claim, patch, reply): the same path as a live change. */
  applyFromApi(ticket: QueueTicket) {
    this.#applyTicket(ticket, ticket);
  }

  /** Subscribes to the live stream; returns the unsubscribe. */
  connect(): () => void {
    const offs = [
      liveClient.on('ticket:created', (e) => this.#applyTicket(e.data)),
      liveClient.on('ticket:updated', (e) => this.#applyTicket(e.data)),
      liveClient.on('ticket:message_added', (e) => this.#applyMessage(e.data)),
      liveClient.onResync(async () => {
        if (!(await this.load())) throw new Error('queue reload failed');
      })
    ];
    return () => {
      for (const off of offs) off();
      this.#stale = true;
      clearTimeout(this.#countsTimer);
      clearTimeout(this.#reloadTimer);
    };
  }

  #applyTicket(next: TicketSummary, full?: QueueTicket) {
    const index = this.tickets.findIndex((t) => t.id === next.id);
    const current = index >= 0 ? this.tickets[index] : undefined;
    if (current && !isNewer(current, next)) return;
    if (!this.#versions.note(next)) return;
    this.#refreshCountsSoon();

    if (!current) {
      if (!this.#matches(next, full)) return;
      if (full) this.#insert(full);
      else this.#fetchRow(next.id);
      return;
    }
    const assignee = full
      ? full.assignee
      : next.assigneeId === current.assigneeId
        ? current.assignee
        : personFor(next.assigneeId, this.user);
    if (!this.#matches(next, full ?? current)) {
      this.#remove(next.id);
      return;
    }
    if (assignee === undefined) {
      // Someone we have no name for: patch what we know now, then fetch the row for the name.
      this.tickets[index] = { ...current, ...next, assignee: current.assignee };
      this.#fetchRow(next.id);
    } else {
      this.tickets[index] = { ...current, ...next, ...(full ?? {}), assignee };
    }
    this.#flash(next.id);
  }

  #applyMessage(message: TicketMessage) {
    const row = this.tickets.find((t) => t.id === message.ticketId);
    if (!row) return;
    if (row.lastMessage && row.lastMessage.at > message.createdAt) return;
    row.lastMessage = {
      preview: message.body.replace(/\s+/g, ' ').slice(0, 200),
      authorType: message.authorType,
      internal: message.internal,
      at: message.createdAt
    };
    if (message.createdAt > row.lastMessageAt) row.lastMessageAt = message.createdAt;
    this.#flash(row.id);
  }

  /** Whether a ticket belongs in the current view and filters (the server decides on reload). */
  #matches(t: TicketSummary, row?: Pick<QueueTicket, 'customer'>): boolean {
    return inQueue(t, { view: this.view, filters: this.filters, user: this.user, customer: row?.customer });
  }

  #insert(row: QueueTicket) {
    if (this.tickets.some((t) => t.id === row.id)) return;
    let index = this.tickets.findIndex((t) => compareByUrgency(row, t) < 0);
    if (index < 0) {
      // It sorts after everything loaded: it belongs to a later page unless this is the last one.
      if (this.nextCursor) return;
      index = this.tickets.length;
    }
    this.tickets.splice(index, 0, row);
    if (this.selectedId === null) this.selectedId = row.id;
    this.#flash(row.id);
  }

  #remove(id: number) {
    const index = this.tickets.findIndex((t) => t.id === id);
    if (index < 0) return;
    if (this.selectedId === id) {
      const neighbour = this.tickets[index + 1] ?? this.tickets[index - 1] ?? null;
      this.selectedId = neighbour?.id ?? null;
    }
    this.tickets.splice(index, 1);
    this.flashes.delete(id);
  }

  /** Fetches one row (a new ticket, or a change naming someone we do not know) and places it. */
  #fetchRow(id: number) {
    if (this.#fetching.has(id)) return;
    if (this.#fetching.size >= MAX_ROW_FETCHES) {
      this.#reloadSoon();
      return;
    }
    this.#fetching.add(id);
    const request = this.#request;
    consoleApi
      .ticket(id)
      .then(({ ticket }) => {
        if (request !== this.#request) return;
        const { team: _team, ...row } = ticket;
        if (!this.#versions.current(row)) return;
        const index = this.tickets.findIndex((t) => t.id === id);
        if (index >= 0) {
          if (!isNewer(this.tickets[index], row)) return;
          if (this.#matches(row, row)) this.tickets[index] = row;
          else this.#remove(id);
        } else if (this.#matches(row, row)) {
          this.#insert(row);
        }
      })
      .catch(() => undefined)
      .finally(() => this.#fetching.delete(id));
  }

  #flash(id: number) {
    this.flashes.set(id, (this.flashes.get(id) ?? 0) + 1);
  }

  /** Counts come from the server (it knows every view); asked again shortly after changes settle. */
  #refreshCountsSoon() {
    clearTimeout(this.#countsTimer);
    this.#countsTimer = setTimeout(() => {
      const request = this.#request;
      consoleApi
        .queue(this.query(undefined, 1))
        .then((page) => {
          if (request === this.#request) this.counts = page.counts;
        })
        .catch(() => undefined);
    }, 700);
  }

  #reloadSoon() {
    clearTimeout(this.#reloadTimer);
    this.#reloadTimer = setTimeout(() => void this.load(), 500);
  }
}

let current: { queue: Queue; dispose: () => void } | null = null;

/**
 * The console's one queue for the signed-in user, kept while moving between the queue and tickets
 * (and across leaving the console). It lives in its own effect root: its derived values must not
 * belong to whichever screen happened to create it.
 */
export function queueFor(user: CurrentUser): Queue {
  if (!current || current.queue.user.id !== user.id) {
    current?.dispose();
    let queue: Queue | undefined;
    const dispose = $effect.root(() => {
      queue = new Queue(user);
    });
    current = { queue: queue!, dispose };
  }
  return current.queue;
}

// --- The queue's view and filters in the address bar (reload and share keep them) -------------

function pick<T extends string>(raw: string | null, allowed: readonly T[]): T[] {
  return (raw ?? '').split(',').filter((v): v is T => (allowed as readonly string[]).includes(v));
}

export function queueSearchParams(queue: Queue): string {
  const params = new URLSearchParams();
  if (queue.view !== queue.defaultView) params.set('view', queue.view);
  const f = queue.filters;
  if (f.status.length && !sameSet(f.status, OPEN_WORK)) params.set('status', f.status.join(','));
  if (f.priority.length) params.set('priority', f.priority.join(','));
  if (f.channel.length) params.set('channel', f.channel.join(','));
  if (f.sla.length) params.set('sla', f.sla.join(','));
  if (f.tag.trim()) params.set('tag', f.tag.trim());
  if (f.q.trim()) params.set('q', f.q.trim());
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Reads view and filters from a URL; returns false when the URL says nothing about them. */
export function applySearchParams(queue: Queue, params: URLSearchParams): boolean {
  const keys = ['view', 'status', 'priority', 'channel', 'sla', 'tag', 'q'];
  if (!keys.some((k) => params.has(k))) return false;
  const view = params.get('view');
  queue.view = (QUEUE_VIEWS as readonly string[]).includes(view ?? '')
    ? (view as QueueView)
    : queue.defaultView;
  queue.filters = {
    status: pick(params.get('status'), TICKET_STATUSES).length
      ? pick(params.get('status'), TICKET_STATUSES)
      : [...OPEN_WORK],
    priority: pick(params.get('priority'), TICKET_PRIORITIES),
    channel: pick(params.get('channel'), TICKET_CHANNELS),
    sla: pick(params.get('sla'), SLA_STATES),
    tag: params.get('tag') ?? '',
    q: params.get('q') ?? ''
  };
  return true;
}
